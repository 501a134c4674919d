// Crashes under load (issue 9): a `tandem up` stack takes replayed traffic while
// each pipeline process is killed with SIGKILL once, in turn (`tandem up`
// restarts it). Afterwards every accepted event is in both colors' raw, has
// its delivery or rejection rows in both colors, and the verdict is ready again.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/fetch.h"
#include "tests/support/process.h"
#include "tests/support/splitter_harness.h"
#include "tests/support/sqlite_rows.h"
#include "tests/support/test_config.h"

namespace tandem::testing {
namespace {

using json = nlohmann::json;

std::set<std::string> Ids(const std::string& db, const std::string& sql) {
  std::set<std::string> out;
  for (const auto& r : QueryRows(db, sql)) out.insert(r.at("tandem_id"));
  return out;
}

// What a color recorded for one event, for a failure message.
std::string RowsOf(const std::string& db, const std::string& id) {
  std::string out;
  for (const char* table : {"deliveries", "rejected"}) {
    for (const auto& r :
         QueryRows(db, std::string("SELECT * FROM ") + table + " WHERE tandem_id = '" + id + "'")) {
      out += std::string(table) + " {";
      for (const auto& [k, v] : r) out += " " + k + "=" + v.substr(0, 80);
      out += " } ";
    }
  }
  return out.empty() ? "nothing" : out;
}

// The n-th log line `msg` of `service` (a child of `tandem up`) in `up`'s output.
std::optional<json> NthLog(Process& up, const std::string& msg, const std::string& service, int n,
                           std::chrono::seconds limit = std::chrono::seconds(30)) {
  int seen = 0;
  return up.WaitForLog(msg, limit, [&](const json& j) {
    return (j.value("service", "") == service || j.value("child", "") == service) && ++seen == n;
  });
}

TEST(Crash, Kill9OfEachPipelineProcessUnderLoadLosesNoAcceptedEventAndTheVerdictRecovers) {
  TempDir dir;
  StackPorts ports;
  TestConfig c = StackConfig(ports);
  c.splitter_extra = "  initial_live: green\n";
  // Short windows; settle long enough for a restarted candidate's parked copies.
  c.compare_extra =
      "  window_seconds: 2\n  settle_seconds: 4\n  min_events_per_window: 100\n"
      "  windows_required: 3\n  max_drift_ratio: 0.01\n";
  c.extra = kSamplePipeline;
  std::string cfg = c.Write(dir.path());
  Process up({TandemBinary(), "up", "-c", cfg}, {kTokenEnv});
  ASSERT_TRUE(WaitForStack(up)) << up.Output();

  const std::string ids_file = dir.path() + "/accepted.txt";
  const std::string blue_db = dir.path() + "/blue.db", green_db = dir.path() + "/green.db";
  Process replay({TandemBinary(), "replay", "-c", cfg, "--count", "12000", "--rate", "500",
                  "--accepted-ids", ids_file});

  // The candidate's processes first, then live's: trace, then the dispatcher.
  for (const char* child : {"dispatcher-blue", "trace-blue", "trace-green", "dispatcher-green"}) {
    // Traffic flows through the stack before each kill.
    int64_t rows_then = -1;
    ASSERT_TRUE(PollUntil(
        [&] {
          auto r = QueryRows(green_db, "SELECT count(*) AS n FROM raw");
          int64_t n = r.empty() ? 0 : std::stoll(r[0].at("n"));
          if (rows_then < 0) rows_then = n;
          return n >= rows_then + 300;
        },
        std::chrono::seconds(30)))
        << "no traffic before killing " << child;
    auto started = NthLog(up, "started", child, 1);
    ASSERT_TRUE(started) << up.Output();
    ASSERT_EQ(kill((*started)["pid"].get<pid_t>(), SIGKILL), 0) << child;
    ASSERT_TRUE(NthLog(up, "restarted", child, 1)) << child << "\n" << up.Output();
    ASSERT_TRUE(NthLog(up, "listening", child, 2)) << child << "\n" << up.Output();
  }
  ASSERT_TRUE(replay.Wait(std::chrono::seconds(120))) << replay.Output();
  std::set<std::string> accepted;
  {
    std::ifstream in(ids_file);
    for (std::string id; std::getline(in, id);) accepted.insert(id);
  }
  // Some requests failed while live's dispatcher was down (502): not accepted, not counted.
  ASSERT_GT(accepted.size(), 10000u) << replay.Output();

  // Every accepted event reaches both colors' raw, and each color has its
  // delivery (valid events) or rejection (the broken ones) rows.
  auto missing = [&](const std::set<std::string>& have) {
    size_t n = 0;
    for (const auto& id : accepted) n += !have.count(id);
    return n;
  };
  for (const auto& db : {green_db, blue_db}) {
    size_t lost = 0, undelivered = 0;
    ASSERT_TRUE(PollUntil(
        [&] {
          lost = missing(Ids(db, "SELECT tandem_id FROM raw"));
          undelivered = missing(Ids(db,
                                    "SELECT tandem_id FROM deliveries UNION "
                                    "SELECT tandem_id FROM rejected"));
          return lost == 0 && undelivered == 0;
        },
        std::chrono::seconds(60)))
        << db << ": " << lost << " accepted events missing in raw, " << undelivered
        << " without deliveries or rejected rows\n"
        << up.Output();
  }
  // A crash is not a refusal: no event was parked as one trace refuses.
  for (const auto& db : {green_db, blue_db}) {
    EXPECT_EQ(QueryRows(db, "SELECT tandem_id FROM rejected WHERE reason = 'trace_refused'").size(),
              0u)
        << db;
  }
  // The same events were delivered (not rejected) in both colors.
  const std::string delivered = "SELECT tandem_id FROM deliveries WHERE outcome = 'delivered'";
  auto blue_delivered = Ids(blue_db, delivered), green_delivered = Ids(green_db, delivered);
  EXPECT_EQ(missing(blue_delivered), missing(green_delivered));
  for (const auto& id : accepted) {
    if (green_delivered.count(id) != blue_delivered.count(id)) {
      ADD_FAILURE() << id << " delivered in only one color\nblue: " << RowsOf(blue_db, id)
                    << "\ngreen: " << RowsOf(green_db, id);
      break;
    }
  }

  // The verdict recovers: passing windows after the crashes make it ready.
  Process more({TandemBinary(), "replay", "-c", cfg, "--count", "8000", "--rate", "500"});
  json last;
  ASSERT_TRUE(PollUntil(
      [&] {
        auto r = http::Fetch(http::Verb::get,
                             "http://127.0.0.1:" + std::to_string(ports.compare) + "/v1/report", "",
                             "", std::chrono::seconds(5));
        last = json::parse(r.res.body(), nullptr, false);
        return last.is_object() && last.value("verdict", "") == "ready";
      },
      std::chrono::seconds(60)))
      << last.dump(2);
}

}  // namespace
}  // namespace tandem::testing
