#include "splitter/admin_handler.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/log.h"
#include "common/sync_client.h"

namespace tandem::splitter {
namespace {

using json = nlohmann::json;
constexpr auto kCompareTimeout = std::chrono::milliseconds(5000);
constexpr auto kReadyTimeout = std::chrono::milliseconds(1000);

std::string Sha256(std::string_view s) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

http::Response Json(http::Status st, const json& j) { return http::MakeResponse(st, j.dump()); }

// {} or {"force":..., "reason":..., "expect_live":...}; an error message when malformed.
std::string ParseSwapBody(const std::string& text, bool& force, std::string& reason,
                          std::optional<Color>& expect_live) {
  json body = text.empty() ? json::object() : json::parse(text, nullptr, false);
  if (!body.is_object()) return "body must be a JSON object";
  if (body.contains("force")) {
    if (!body["force"].is_boolean()) return "force must be true or false";
    force = body["force"].get<bool>();
  }
  if (body.contains("reason")) {
    if (!body["reason"].is_string()) return "reason must be a string";
    reason = body["reason"].get<std::string>();
  }
  if (body.contains("expect_live")) {
    std::optional<Color> c;
    if (body["expect_live"].is_string()) c = ParseColor(body["expect_live"].get<std::string>());
    if (!c) return "expect_live must be \"blue\" or \"green\"";
    expect_live = c;
  }
  return "";
}

}  // namespace

AdminSettings AdminSettings::From(const Config& config) {
  AdminSettings s;
  auto compare = Url::Parse(config.splitter.compare_url);
  if (!compare) {
    throw std::runtime_error("splitter.compare_url: cannot parse '" + config.splitter.compare_url +
                             "'");
  }
  s.compare_report = compare->Join("/v1/report");
  s.token_env = config.splitter.admin_token_env;
  const char* token = std::getenv(s.token_env.c_str());
  s.token_digest = token && *token ? Sha256(token) : std::string();
  s.mirror_fraction = config.splitter.mirror_fraction;
  return s;
}

AdminHandler::AdminHandler(boost::asio::io_context& io, const Config& config, LiveState& state,
                           StateStore& store, Metrics& metrics, SplitterMetrics& splitter_metrics,
                           std::function<void()> before_scrape)
    : io_(io),
      ssl_(http::MakeClientTls(config.pipeline.tls_ca_file)),
      state_file_(config.splitter.state_file),
      state_(state),
      store_(store),
      metrics_(metrics),
      splitter_metrics_(splitter_metrics),
      before_scrape_(std::move(before_scrape)) {
  for (Color c : kColors) {
    for (const auto& a : config.color(c).dispatchers) {
      dispatchers_[Index(c)].push_back(
          http::ClientPool::Create(io_, http::Upstream::Of(a), {.max_idle = 4}));
    }
  }
  Apply(AdminSettings::From(config));
}

AdminHandler::~AdminHandler() = default;

void AdminHandler::Apply(AdminSettings settings) {
  settings_ = std::move(settings);
  compare_ = http::ClientPool::Create(io_, http::Upstream::Of(settings_.compare_report, ssl_.get()),
                                      {.max_idle = 4});
  if (settings_.token_digest.empty()) {
    log::Warn("admin API closed: the token variable is unset", {{"variable", settings_.token_env}});
  }
}

bool AdminHandler::Authorized(const http::Request& req) const {
  if (settings_.token_digest.empty()) return false;
  auto it = req.find(http::Field::authorization);
  if (it == req.end()) return false;
  std::string_view v = it->value();
  if (v.size() < 7 || !boost::beast::iequals(v.substr(0, 7), "Bearer ")) return false;
  // Digests have a fixed length, so the comparison takes the same time whatever the token.
  std::string got = Sha256(v.substr(7));
  return CRYPTO_memcmp(got.data(), settings_.token_digest.data(), got.size()) == 0;
}

std::string AdminHandler::StateJson(const LiveSnapshot& s) const {
  StoreHealth h = store_.Health();
  json store = {{"kind", h.kind}, {"reachable", h.reachable}};
  if (h.kind == "etcd") store["revision"] = h.revision;
  if (!h.reachable) {
    store["unreachable_since_ms"] = h.unreachable_since_ms;
    store["error"] = h.last_error;
  }
  return json{{"live", ColorName(s.live)},
              {"candidate", ColorName(Other(s.live))},
              {"mirror_fraction", settings_.mirror_fraction},
              {"changed_at_ms", s.changed_at_ms},
              {"store", store}}
      .dump();
}

void AdminHandler::Reply(http::Respond& respond, const char* endpoint, http::Response&& res) {
  splitter_metrics_.Admin(endpoint, res.result_int());
  respond(std::move(res));
}

void AdminHandler::Handle(http::Request&& req, const http::RequestInfo&, http::Respond respond) {
  std::string path(req.target().substr(0, req.target().find('?')));
  const bool get = req.method() == http::Verb::get;
  const bool post = req.method() == http::Verb::post;
  if (path == "/healthz") {
    if (!get)
      return Reply(respond, "healthz",
                   http::JsonError(http::Status::method_not_allowed, "use GET"));
    return Reply(respond, "healthz", Json(http::Status::ok, {{"status", "ok"}}));
  }
  if (path == "/readyz") {
    if (!get)
      return Reply(respond, "readyz", http::JsonError(http::Status::method_not_allowed, "use GET"));
    return Ready(std::move(respond));
  }
  if (path == "/metrics") {
    if (!get)
      return Reply(respond, "metrics",
                   http::JsonError(http::Status::method_not_allowed, "use GET"));
    if (before_scrape_) before_scrape_();
    return respond(
        http::MakeResponse(http::Status::ok, metrics_.Serialize(), "text/plain; version=0.0.4"));
  }
  const char* endpoint = path == "/admin/v1/state"      ? "state"
                         : path == "/admin/v1/promote"  ? "promote"
                         : path == "/admin/v1/rollback" ? "rollback"
                                                        : nullptr;
  if (!endpoint)
    return Reply(respond, "other", http::JsonError(http::Status::not_found, "no such endpoint"));
  if (!Authorized(req)) {
    auto res = http::JsonError(http::Status::unauthorized, "a valid bearer token is required");
    res.set(http::Field::www_authenticate, "Bearer");
    return Reply(respond, endpoint, std::move(res));
  }
  if (path == "/admin/v1/state") {
    if (!get)
      return Reply(respond, endpoint, http::JsonError(http::Status::method_not_allowed, "use GET"));
    return Reply(respond, endpoint,
                 http::MakeResponse(http::Status::ok, StateJson(state_.Snapshot())));
  }
  if (!post)
    return Reply(respond, endpoint, http::JsonError(http::Status::method_not_allowed, "use POST"));
  SwapRequest sr;
  if (std::string bad = ParseSwapBody(req.body(), sr.force, sr.reason, sr.expect_live);
      !bad.empty()) {
    return Reply(respond, endpoint, http::JsonError(http::Status::bad_request, bad));
  }
  // expect_live makes a retried or concurrent call harmless: it swaps only from
  // the color the caller saw live.
  if (sr.expect_live && *sr.expect_live != state_.live()) {
    return Reply(respond, endpoint,
                 Json(http::Status::conflict,
                      {{"error", std::string("the live color is not ") +
                                     ColorName(*sr.expect_live) + "; nothing was swapped"},
                       {"state", json::parse(StateJson(state_.Snapshot()))}}));
  }
  if (path == "/admin/v1/promote") return Promote(sr, std::move(respond));
  SwapTo(sr.expect_live.value_or(state_.live()), "rollback",
         sr.reason.empty() ? "rollback" : sr.reason, std::move(respond));
}

void AdminHandler::Ready(http::Respond respond) {
  // Ready while any of the live color's dispatchers answers: the splitter skips
  // the ones that do not.
  Color live = state_.live();
  struct Probe {
    size_t remaining;
    bool answered = false;
    http::Respond respond;
  };
  auto probe =
      std::make_shared<Probe>(Probe{dispatchers_[Index(live)].size(), false, std::move(respond)});
  if (probe->remaining == 0) {
    return Reply(probe->respond, "readyz",
                 Json(http::Status::service_unavailable,
                      {{"error", "the live color has no dispatchers"}, {"live", ColorName(live)}}));
  }
  for (auto& pool : dispatchers_[Index(live)]) {
    http::Request req{http::Verb::get, "/healthz", 11};
    pool->Send(std::move(req), kReadyTimeout,
               [this, live, probe](boost::system::error_code ec, http::Response&& res) {
                 --probe->remaining;
                 if (probe->answered) return;
                 if (!ec && http::IsSuccess(res)) {
                   probe->answered = true;
                   return Reply(probe->respond, "readyz",
                                Json(http::Status::ok, {{"live", ColorName(live)}}));
                 }
                 if (probe->remaining > 0) return;
                 Reply(probe->respond, "readyz",
                       Json(http::Status::service_unavailable,
                            {{"error", "the live dispatcher does not answer"},
                             {"live", ColorName(live)}}));
               });
  }
}

void AdminHandler::SwapTo(Color expected_live, const char* kind, const std::string& reason,
                          http::Respond respond) {
  // The store may answer on its own thread; the reply is made on the admin's.
  store_.Swap(expected_live, [this, expected_live, kind, reason,
                              respond = std::move(respond)](SwapResult r) mutable {
    boost::asio::post(io_, [this, r = std::move(r), expected_live, kind, reason,
                            respond = std::move(respond)]() mutable {
      Swapped(r, expected_live, kind, reason, respond);
    });
  });
}

void AdminHandler::Swapped(const SwapResult& r, Color from, const char* kind,
                           const std::string& reason, http::Respond& respond) {
  switch (r.kind) {
    case SwapResult::Kind::kSwapped:
      // The color live now: a fleet's store may have applied a later change.
      splitter_metrics_.SetLive(state_.live());
      splitter_metrics_.Swap(kind);
      log::Info("live color swapped", {{"kind", kind},
                                       {"from", ColorName(from)},
                                       {"to", ColorName(r.state.live)},
                                       {"reason", reason}});
      return Reply(respond, kind, http::MakeResponse(http::Status::ok, StateJson(r.state)));
    case SwapResult::Kind::kConflict:
      return Reply(respond, kind,
                   Json(http::Status::conflict,
                        {{"error", r.detail}, {"state", json::parse(StateJson(r.state))}}));
    case SwapResult::Kind::kUnavailable:
      log::Warn("swap refused: the state store is unreachable",
                {{"kind", kind}, {"detail", r.detail}});
      return Reply(respond, kind, http::JsonError(http::Status::service_unavailable, r.detail));
    case SwapResult::Kind::kFailed:
      log::Error("cannot persist the swap; nothing changed",
                 {{"error", r.detail}, {"file", state_file_}});
      return Reply(respond, kind, http::JsonError(http::Status::internal_server_error, r.detail));
  }
}

void AdminHandler::Promote(const SwapRequest& sr, http::Respond respond) {
  const bool force = sr.force;
  const std::string& reason = sr.reason;
  Color live = state_.live();
  if (force) {
    if (reason.empty()) {
      return Reply(respond, "promote",
                   http::JsonError(http::Status::bad_request, "a forced promotion needs a reason"));
    }
    log::Warn("forced promotion: the verdict is not checked",
              {{"reason", reason}, {"from", ColorName(live)}});
    return SwapTo(sr.expect_live.value_or(live), "forced_promote", reason, std::move(respond));
  }
  if (promoting_) {
    return Reply(respond, "promote",
                 http::JsonError(http::Status::conflict, "another promotion is being checked"));
  }
  promoting_ = true;
  http::Request get{http::Verb::get, settings_.compare_report.target, 11};
  get.set(http::Field::accept, "application/json");
  compare_->Send(
      std::move(get), kCompareTimeout,
      [this, live, respond = std::move(respond)](boost::system::error_code ec,
                                                 http::Response&& res) mutable {
        promoting_ = false;
        json report = ec ? json() : json::parse(res.body(), nullptr, false);
        if (ec || res.result_int() != 200 || !report.is_object() || !report.contains("verdict")) {
          std::string why = ec ? ec.message() : "status " + std::to_string(res.result_int());
          log::Warn("promotion refused: compare cannot be reached (fail closed)", {{"error", why}});
          return Reply(
              respond, "promote",
              Json(http::Status::service_unavailable,
                   {{"error", "compare cannot be reached; promotion refused"}, {"detail", why}}));
        }
        std::string verdict =
            report["verdict"].is_string() ? report["verdict"].get<std::string>() : "";
        json reasons = report.contains("reasons") && report["reasons"].is_array()
                           ? report["reasons"]
                           : json::array();
        std::string about = report.contains("candidate") && report["candidate"].is_string()
                                ? report["candidate"].get<std::string>()
                                : ColorName(Other(live));
        if (verdict != "ready" || about != ColorName(Other(live))) {
          if (verdict == "ready")
            reasons.push_back("the report judges " + about + ", not the candidate");
          log::Info("promotion refused", {{"verdict", verdict}, {"reasons", reasons}});
          return Reply(respond, "promote",
                       Json(http::Status::conflict, {{"error", "the candidate is not ready"},
                                                     {"verdict", verdict},
                                                     {"reasons", reasons}}));
        }
        SwapTo(live, "promote", "verdict ready", std::move(respond));
      });
}

}  // namespace tandem::splitter
