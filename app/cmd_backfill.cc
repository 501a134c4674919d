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

bool PlainId(const std::string& id) {
  return !id.empty() && id.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos;
}

// The events after `after` (none yet: the range's start) in [from, to).
// Events are read a page at a time (keyset on received_at, tandem_id), so a
// long range never sits in memory whole.
Status ReadPage(Dataset& d, int64_t from_ms, int64_t to_ms, const RawEvent* after, size_t limit,
                std::vector<RawEvent>& out) {
  out.clear();
  std::string where = TimeBetween(d, "received_at", from_ms, to_ms);
  if (after) {
    where += " AND (received_at > " + TimeLiteral(d, after->received_at_ms) +
             " OR (received_at = " + TimeLiteral(d, after->received_at_ms) + " AND tandem_id > '" +
             after->id + "'))";
  }
  std::string sql = "SELECT tandem_id, " +
                    std::string(BigQuery(d) ? "UNIX_MILLIS(received_at)" : "received_at") +
                    ", data FROM " + d.Table("raw") + " WHERE " + where +
                    " ORDER BY received_at, tandem_id LIMIT " + std::to_string(limit);
  return d.QueryEach(sql, [&](const std::vector<std::string_view>& r) {
    if (r.size() == 3) out.push_back({std::string(r[0]), std::string(r[1]), std::string(r[2])});
  });
}

Status CountRange(Dataset& d, int64_t from_ms, int64_t to_ms, uint64_t& n) {
  std::vector<std::vector<std::string>> rows;
  Status s = d.Query("SELECT COUNT(*) FROM " + d.Table("raw") + " WHERE " +
                         TimeBetween(d, "received_at", from_ms, to_ms),
                     rows);
  if (s.ok() && !rows.empty() && !rows[0].empty())
    n = std::strtoull(rows[0][0].c_str(), nullptr, 10);
  return s;
}

struct ColorRole {
  std::string role;
  int64_t changed_at_ms = 0;
};

// The color's role now, from the splitter: trace sends a candidate's events to
// the vendors' candidate settings.
std::optional<ColorRole> CurrentRole(const Config& c, Color color, std::string& why) {
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
  return ColorRole{j["live"] == ColorName(color) ? "live" : "candidate",
                   j.value("changed_at_ms", int64_t{0})};
}

struct Sender {
  boost::asio::io_context io;
  std::shared_ptr<http::ClientPool> pool;
  Dataset* dataset = nullptr;
  int64_t from_ms = 0, to_ms = 0;
  size_t page_size = 5000;
  std::vector<RawEvent> page;
  std::optional<RawEvent> last;  // of the page before
  bool read_all = false;
  std::string read_error;
  uint64_t total = 0;
  std::string role, vendor;
  size_t next = 0, inflight = 0;
  uint64_t done = 0;
  uint64_t processed = 0, rejected = 0, failed = 0, sent = 0;
  std::map<std::string, uint64_t> failures;
  Progress progress{"backfill"};

  // The next page once the current one is sent and answered.
  bool NextPage() {
    if (read_all) return false;
    if (!page.empty()) last = page.back();
    if (last && !PlainId(last->id)) {
      read_error = "an id the next page cannot start after: " + last->id;
      return false;
    }
    Status s = ReadPage(*dataset, from_ms, to_ms, last ? &*last : nullptr, page_size, page);
    next = 0;
    if (!s.ok()) read_error = s.message();
    read_all = !s.ok() || page.size() < page_size;
    return s.ok() && !page.empty();
  }

  void Pump() {
    if (next == page.size() && inflight == 0 && !NextPage()) return;
    while (next < page.size() && inflight < 32) {
      const RawEvent& e = page[next++];
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
                   progress.Update(done, total, Tail());
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
    std::snprintf(s, sizeof s, "%llu/%llu events, %llu deliveries sent again, %llu failed",
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                  static_cast<unsigned long long>(sent), static_cast<unsigned long long>(failed));
    return s;
  }
};

}  // namespace

std::optional<int64_t> ParseTimeMs(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
      text.size() <= 15) {
    int64_t ms = std::stoll(text);
    // Fewer digits is Unix seconds (or a typo): say so rather than select nothing.
    if (text.size() < 12) return std::nullopt;
    return ms;
  }
  if (text.size() != 20) return std::nullopt;  // exactly YYYY-MM-DDTHH:MM:SSZ
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      static_cast<size_t>(consumed) != text.size()) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::tm asked = tm;
  time_t t = timegm(&tm);
  // timegm normalizes (Feb 31 becomes March 3): a date that moved did not exist.
  if (t == static_cast<time_t>(-1) || tm.tm_mday != asked.tm_mday || tm.tm_mon != asked.tm_mon ||
      tm.tm_hour != asked.tm_hour || tm.tm_min != asked.tm_min || tm.tm_sec != asked.tm_sec) {
    return std::nullopt;
  }
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
    if (r->changed_at_ms > o.from_ms && r->changed_at_ms < o.to_ms) {
      // Before the swap the color had the other role: one role for the whole
      // range would send a candidate's events to production vendors, or back.
      std::cerr << "backfill: the colors swapped inside the range (at " << r->changed_at_ms
                << " ms); backfill each side of it, with --role\n";
      return 2;
    }
    role = r->role;
  }

  std::unique_ptr<Dataset> dataset = OpenDataset(c, o.color);
  Sender s;
  s.dataset = dataset.get();
  s.from_ms = o.from_ms;
  s.to_ms = o.to_ms;
  s.page_size = o.page;
  s.role = role;
  s.vendor = vendor;
  if (Status st = CountRange(*dataset, o.from_ms, o.to_ms, s.total); !st.ok()) {
    std::cerr << "backfill: reading " << ColorName(o.color) << "'s raw events: " << st.message()
              << "\n";
    return 1;
  }
  std::cout << "backfill: " << s.total << " events of " << ColorName(o.color) << " (" << role
            << ") to " << (o.vendor.empty() ? "every tracker" : "tracker " + o.vendor) << "\n";
  const HostPort& trace = c.color(o.color).trace_listen;
  s.pool = http::ClientPool::Create(
      s.io, http::Upstream{trace.host == "0.0.0.0" ? "127.0.0.1" : trace.host, trace.port});
  s.Pump();
  s.io.run();
  s.progress.Finish(s.done, s.total, s.Tail());
  std::cout << "backfilled " << s.done << " events: " << s.processed << " processed (" << s.sent
            << " deliveries sent again), " << s.rejected << " rejected by trace, " << s.failed
            << " failed\n";
  if (!s.read_error.empty()) {
    std::cout << "stopped early: reading " << ColorName(o.color)
              << "'s raw events: " << s.read_error << "\n";
  }
  for (const auto& [why, n] : s.failures) std::cout << "  " << n << " failed: " << why << "\n";
  return s.failed == 0 && s.read_error.empty() ? 0 : 1;
}

}  // namespace tandem::app
