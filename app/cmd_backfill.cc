// `tandem backfill`: reads a color's events for a time range from its dataset
// and sends each to that color's trace with X-Tandem-Backfill, so trace
// delivers again what has no `delivered` row (for every tracker or one), with
// the payload on record. Safe to run twice: the second run sends nothing.
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "app/commands.h"
#include "app/progress.h"
#include "common/admin_api.h"
#include "common/fetch.h"
#include "common/http_client.h"
#include "common/wire.h"
#include "datasets/dataset.h"

namespace tandem::app {
namespace {

struct RawEvent {
  std::string id, received_at_ms, body;
};

bool BigQuery(const Dataset& d) { return d.dialect() == SqlDialect::kBigQuery; }

Status ReadRange(Dataset& d, int64_t from_ms, int64_t to_ms, std::vector<RawEvent>& out) {
  std::string from = std::to_string(from_ms), to = std::to_string(to_ms);
  std::string sql = BigQuery(d) ? "SELECT tandem_id, UNIX_MILLIS(received_at), data FROM " +
                                      d.Table("raw") + " WHERE received_at >= TIMESTAMP_MILLIS(" +
                                      from + ") AND received_at < TIMESTAMP_MILLIS(" + to +
                                      ") ORDER BY received_at"
                                : "SELECT tandem_id, received_at, data FROM " + d.Table("raw") +
                                      " WHERE received_at >= " + from + " AND received_at < " + to +
                                      " ORDER BY received_at";
  return d.QueryEach(sql, [&](const std::vector<std::string_view>& r) {
    if (r.size() == 3) out.push_back({std::string(r[0]), std::string(r[1]), std::string(r[2])});
  });
}

// The color's role now, from the splitter: trace sends a candidate's events to
// the vendors' candidate settings.
std::optional<std::string> CurrentRole(const Config& c, Color color, std::string& why) {
  auto r = http::Fetch(http::Verb::get, AdminUrl(c, "/admin/v1/state"), "", AdminToken(c),
                       std::chrono::seconds(5));
  if (r.ec || r.res.result_int() != 200) {
    why = r.ec ? r.ec.message() : "HTTP " + std::to_string(r.res.result_int());
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(r.res.body(), nullptr, false);
  if (!j.is_object() || !j["live"].is_string()) {
    why = "an unreadable state";
    return std::nullopt;
  }
  return j["live"] == ColorName(color) ? "live" : "candidate";
}

struct Sender {
  boost::asio::io_context io;
  std::shared_ptr<http::ClientPool> pool;
  const std::vector<RawEvent>* events = nullptr;
  std::string role, vendor;
  size_t next = 0, inflight = 0, done = 0;
  uint64_t processed = 0, rejected = 0, failed = 0, sent = 0;
  std::map<std::string, uint64_t> failures;
  Progress progress{"backfill"};

  void Pump() {
    while (next < events->size() && inflight < 32) {
      const RawEvent& e = (*events)[next++];
      http::Request req{http::Verb::post, wire::kEventsPath, 11};
      req.set(wire::kTandemId, e.id);
      req.set(wire::kReceivedAt, e.received_at_ms);
      req.set(wire::kRole, role);
      req.set(wire::kBackfill, vendor);
      req.set(http::Field::content_type, "application/json");
      req.body() = e.body;
      ++inflight;
      pool->Send(std::move(req), std::chrono::seconds(30),
                 [this](boost::system::error_code ec, http::Response&& res) {
                   --inflight;
                   ++done;
                   Count(ec, res);
                   progress.Update(done, events->size(), Tail());
                   Pump();
                 });
    }
  }

  void Count(boost::system::error_code ec, const http::Response& res) {
    if (ec || res.result_int() != 200) {
      ++failed;
      ++failures[ec ? ec.message() : std::to_string(res.result_int()) + " " + res.body()];
      return;
    }
    auto j = nlohmann::json::parse(res.body(), nullptr, false);
    if (j.is_object() && j.value("result", "") == "rejected") {
      ++rejected;
    } else {
      ++processed;
      if (j.is_object() && j["sent"].is_number_unsigned()) sent += j["sent"].get<uint64_t>();
    }
  }

  std::string Tail() const {
    char s[160];
    std::snprintf(s, sizeof s, "%zu/%zu events, %llu deliveries sent again, %llu failed", done,
                  events->size(), static_cast<unsigned long long>(sent),
                  static_cast<unsigned long long>(failed));
    return s;
  }
};

}  // namespace

std::optional<int64_t> ParseTimeMs(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
      text.size() <= 15) {
    return std::stoll(text);
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      static_cast<size_t>(consumed) != text.size()) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return static_cast<int64_t>(t) * 1000;
}

int Backfill(const std::string& file, const BackfillOptions& o) {
  Config c = LoadConfig(file);
  if (o.to_ms <= o.from_ms) {
    std::cerr << "backfill: --to must be after --from\n";
    return 2;
  }
  std::string vendor = o.vendor.empty() ? "*" : o.vendor;
  if (!o.vendor.empty()) {
    bool known = false;
    for (const auto& t : c.pipeline.trackers) known |= t.name == o.vendor;
    if (!known) {
      std::cerr << "backfill: no tracker named '" << o.vendor << "' in " << file << "\n";
      return 2;
    }
  }
  std::string role = o.role;
  if (role.empty()) {
    std::string why;
    auto r = CurrentRole(c, o.color, why);
    if (!r) {
      std::cerr << "backfill: cannot tell whether " << ColorName(o.color)
                << " is live or the candidate (the splitter's admin API: " << why
                << "); say it with --role live|candidate\n";
      return 1;
    }
    role = *r;
  }

  std::unique_ptr<Dataset> dataset = OpenDataset(c, o.color);
  std::vector<RawEvent> events;
  if (Status s = ReadRange(*dataset, o.from_ms, o.to_ms, events); !s.ok()) {
    std::cerr << "backfill: reading " << ColorName(o.color) << "'s raw events: " << s.message()
              << "\n";
    return 1;
  }
  std::cout << "backfill: " << events.size() << " events of " << ColorName(o.color) << " (" << role
            << ") to " << (o.vendor.empty() ? "every tracker" : "tracker " + o.vendor) << "\n";

  Sender s;
  s.events = &events;
  s.role = role;
  s.vendor = vendor;
  const HostPort& trace = c.color(o.color).trace_listen;
  s.pool = http::ClientPool::Create(
      s.io, http::Upstream{trace.host == "0.0.0.0" ? "127.0.0.1" : trace.host, trace.port});
  s.Pump();
  s.io.run();
  s.progress.Finish(s.done, events.size(), s.Tail());
  std::cout << "backfilled " << events.size() << " events: " << s.processed << " processed ("
            << s.sent << " deliveries sent again), " << s.rejected << " rejected by trace, "
            << s.failed << " failed\n";
  for (const auto& [why, n] : s.failures) std::cout << "  " << n << " failed: " << why << "\n";
  return s.failed == 0 ? 0 : 1;
}

}  // namespace tandem::app
