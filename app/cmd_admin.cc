// status, promote, rollback: thin clients of the splitter's admin API.
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "app/commands.h"
#include "app/report_table.h"
#include "common/admin_api.h"
#include "common/clock.h"
#include "common/fetch.h"

namespace tandem::app {
namespace {

using http::Fetch;
using http::FetchResult;

using json = nlohmann::json;
constexpr auto kTimeout = std::chrono::milliseconds(10000);

int NeedToken(const Config& c) {
  std::cerr << "the admin token is not set: export " << c.splitter.admin_token_env
            << " (the same value the splitter was started with)\n";
  return 2;
}

int Unreachable(const Config& c, const FetchResult& r) {
  std::cerr << "cannot reach the splitter's admin API at " << AdminUrl(c, "") << ": "
            << r.ec.message() << "\n";
  return 1;
}

}  // namespace

int CheckConfig(const std::string& file) {
  Config c = LoadConfig(file);
  std::cout << ConfigToJson(c) << "\n";
  return 0;
}

namespace {

// "etcd, revision 42" or "etcd UNREACHABLE for 12 s (...)" or "state_file".
std::string StoreLine(const json& state) {
  if (!state.is_object() || !state.contains("store") || !state["store"].is_object()) return "?";
  const json& st = state["store"];
  if (st.value("kind", "") != "etcd") return "state_file";
  std::string out = "etcd, revision " + std::to_string(st.value("revision", int64_t{0}));
  if (!st.value("reachable", true)) {
    int64_t since = st.value("unreachable_since_ms", int64_t{0});
    out += ", UNREACHABLE for " + std::to_string((UnixMillis() - since) / 1000) + " s (" +
           st.value("error", "") + "); routing by the last state seen, swaps refused";
  }
  return out;
}

// One line per splitter of a fleet: what it routes by, and whether they agree.
bool PrintFleet(const std::vector<std::string>& admins, const std::string& token) {
  std::set<std::string> lives;
  std::cout << "fleet:\n";
  for (const auto& a : admins) {
    FetchResult r = Fetch(http::Verb::get, "http://" + a + "/admin/v1/state", "", token, kTimeout);
    json j = r.ec ? json() : json::parse(r.res.body(), nullptr, false);
    if (r.ec || r.res.result_int() != 200 || !j.is_object()) {
      std::cout << "  " << a << "  unreachable ("
                << (r.ec ? r.ec.message() : "status " + std::to_string(r.res.result_int()))
                << ")\n";
      lives.insert("?");
      continue;
    }
    lives.insert(j.value("live", "?"));
    std::cout << "  " << a << "  live " << j.value("live", "?") << "  store " << StoreLine(j)
              << "\n";
  }
  bool agree = lives.size() == 1 && *lives.begin() != "?";
  std::cout << (agree ? "  every splitter routes by the same live color\n"
                      : "  the splitters DISAGREE or some cannot be reached\n");
  return agree;
}

}  // namespace

int ShowStatus(const std::string& file, const std::vector<std::string>& admins) {
  Config c = LoadConfig(file);
  std::string token = AdminToken(c);
  if (token.empty()) return NeedToken(c);
  FetchResult st = Fetch(http::Verb::get, AdminUrl(c, "/admin/v1/state"), "", token, kTimeout);
  if (st.ec) return Unreachable(c, st);
  if (st.res.result_int() != 200) {
    std::cerr << "admin API answered " << st.res.result_int() << ": " << st.res.body() << "\n";
    return 1;
  }
  json s = json::parse(st.res.body(), nullptr, false);
  std::cout << "live:       " << s.value("live", "?") << "\n"
            << "candidate:  " << s.value("candidate", "?") << "\n"
            << "mirroring:  " << s.value("mirror_fraction", 0.0) * 100 << "% of devices\n"
            << "state:      " << StoreLine(s) << "\n";
  if (!admins.empty()) PrintFleet(admins, token);
  FetchResult rep = Fetch(http::Verb::get, c.splitter.compare_url + "/v1/report", "", "", kTimeout,
                          c.pipeline.tls_ca_file);
  json r = rep.ec ? json() : json::parse(rep.res.body(), nullptr, false);
  if (rep.ec || rep.res.result_int() != 200 || !r.is_object()) {
    std::cout << "verdict:    unknown (compare at " << c.splitter.compare_url
              << (rep.ec ? " cannot be reached)" : " has no report yet)") << "\n";
    return 0;
  }
  PrintReport(r, std::cout);
  return 0;
}

namespace {

// The live color now, from the admin API; nullopt (and a message) when unknown.
std::optional<Color> CurrentLive(const Config& c, const std::string& token) {
  FetchResult st = Fetch(http::Verb::get, AdminUrl(c, "/admin/v1/state"), "", token, kTimeout);
  if (st.ec) {
    Unreachable(c, st);
    return std::nullopt;
  }
  json j = json::parse(st.res.body(), nullptr, false);
  std::optional<Color> live;
  if (st.res.result_int() == 200 && j.is_object() && j.contains("live") && j["live"].is_string()) {
    live = ParseColor(j["live"].get<std::string>());
  }
  if (!live)
    std::cerr << "admin API answered " << st.res.result_int() << ": " << st.res.body() << "\n";
  return live;
}

// POST promote or rollback with expect_live: the swap happens only from the
// color this command saw live, so a retried or concurrent command never swaps
// twice. A transport error is retried once with the same expect_live.
int Swap(const Config& c, const std::string& token, const char* path, json body, Color expect,
         const char* done_verb) {
  body["expect_live"] = ColorName(expect);
  FetchResult r = Fetch(http::Verb::post, AdminUrl(c, path), body.dump(), token, kTimeout);
  if (r.ec) r = Fetch(http::Verb::post, AdminUrl(c, path), body.dump(), token, kTimeout);
  if (r.ec) return Unreachable(c, r);
  json j = json::parse(r.res.body(), nullptr, false);
  if (r.res.result_int() == 200) {
    std::cout << done_verb << ": live is now " << j.value("live", "?") << " (candidate "
              << j.value("candidate", "?") << ")\n";
    return 0;
  }
  if (r.res.result_int() == 409 && j.is_object() && j.contains("state") && j["state"].is_object()) {
    // The swap this command asked for has happened already (a retry after a lost
    // answer, or another operator): nothing more to do.
    std::string live = j["state"].value("live", "?");
    if (live == ColorName(Other(expect))) {
      std::cout << "nothing to swap: live is already " << live << "\n";
      return 0;
    }
  }
  std::cerr << path << " refused (" << r.res.result_int()
            << "): " << (j.is_object() ? j.value("error", r.res.body()) : r.res.body()) << "\n";
  if (j.is_object() && j.contains("reasons") && j["reasons"].is_array()) {
    for (const auto& reason : j["reasons"])
      std::cerr << "  - " << (reason.is_string() ? reason.get<std::string>() : reason.dump())
                << "\n";
  }
  return 1;
}

}  // namespace

int Promote(const std::string& file, const SwapOptions& o) {
  Config c = LoadConfig(file);
  std::string token = AdminToken(c);
  if (token.empty()) return NeedToken(c);
  if (o.force && o.reason.empty()) {
    std::cerr << "--force needs --reason TEXT: forced promotions are logged with their reason\n";
    return 2;
  }
  std::optional<Color> expect =
      o.expect_live.empty() ? CurrentLive(c, token) : ParseColor(o.expect_live);
  if (!expect) return 1;
  json body = json::object();
  if (o.force) body = {{"force", true}, {"reason", o.reason}};
  return Swap(c, token, "/admin/v1/promote", body, *expect, "promoted");
}

int Rollback(const std::string& file, const SwapOptions& o) {
  Config c = LoadConfig(file);
  std::string token = AdminToken(c);
  if (token.empty()) return NeedToken(c);
  std::optional<Color> expect =
      o.expect_live.empty() ? CurrentLive(c, token) : ParseColor(o.expect_live);
  if (!expect) return 1;
  json body = json::object();
  if (!o.reason.empty()) body["reason"] = o.reason;
  return Swap(c, token, "/admin/v1/rollback", body, *expect, "rolled back");
}

}  // namespace tandem::app
