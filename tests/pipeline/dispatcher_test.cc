// The dispatcher loses no acknowledged event: not to kill -9, not to a dataset
// outage, not to a trace outage, not across restarts.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <future>
#include <set>

#include "tests/support/bigquery_stub.h"
#include "tests/support/dispatcher_harness.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/sqlite_rows.h"

namespace tandem::testing {
namespace {

auto PositionAbove(uint64_t p) {
  return [p](const nlohmann::json& j) { return j.value("position", uint64_t{0}) > p; };
}

TEST(Dispatcher, AcknowledgedEventsSurviveKill9ByteForByte) {
  DispatcherHarness h;
  h.Start();
  auto acked = PostAll(h, 0, 300);
  h.Kill();  // the instant after the last 202
  ASSERT_EQ(acked.size(), 300u);
  h.Start();
  ASSERT_TRUE(h.proc->WaitForLog("loader caught up")) << h.proc->Output();
  auto rows = h.RawRows();
  EXPECT_EQ(rows.size(), 300u);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(rows.count(TestId(i))) << TestId(i);
    EXPECT_EQ(rows[TestId(i)], EventBody(i)) << "byte for byte";
  }
}

// raw.mirror keeps what the splitter said became of the candidate's copy, so
// compare judges the candidate on what it was sent; trace never sees it.
TEST(Dispatcher, KeepsTheMirrorMarkInRawAndNotInWhatGoesToTrace) {
  DispatcherHarness h;
  h.Start();
  const std::vector<std::string> marks = {"sent", "sampled_out", "shed", "bogus", ""};
  for (size_t i = 0; i < marks.size(); ++i)
    ASSERT_EQ(h.Post(TestId(static_cast<int>(i)), 1700000000000 + i, EventBody(i), marks[i]), 202u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 5), 5);
  auto rows = QueryRows(h.db_path(), "SELECT tandem_id, mirror FROM raw");
  std::map<std::string, std::string> mirror;
  for (const auto& r : rows) mirror[r.at("tandem_id")] = r.at("mirror");
  ASSERT_EQ(mirror.size(), 5u);
  EXPECT_EQ(mirror[TestId(0)], "sent");
  EXPECT_EQ(mirror[TestId(1)], "sampled_out");
  EXPECT_EQ(mirror[TestId(2)], "shed");
  EXPECT_EQ(mirror[TestId(3)], "") << "a value the splitter never sends is not kept";
  EXPECT_EQ(mirror[TestId(4)], "");
  ASSERT_EQ(h.trace->WaitFor(5), 5u);
  for (const auto& r : h.trace->received()) EXPECT_EQ(r.header("x-tandem-mirror"), "");
}

TEST(Dispatcher, ClientsGet202WhileTheDatasetIsDownAndEverythingLandsAfter) {
  DispatcherHarness h;
  h.Start();
  ASSERT_TRUE(h.proc->WaitForLog("loader caught up"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(h.db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr),
            SQLITE_OK);  // the outage
  auto acked = PostAll(h, 0, 100);
  EXPECT_EQ(acked.size(), 100u);
  ASSERT_TRUE(h.proc->WaitForLog("dataset unavailable; will retry"));
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  ASSERT_TRUE(h.proc->WaitForLog("dataset back; loading resumed", std::chrono::seconds(30)));
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 100), 100);
  auto rows = h.RawRows();
  EXPECT_EQ(rows.size(), 100u);
  EXPECT_GE(h.Metric("tandem_dispatcher_load_failures_total"), 1);
}

TEST(Dispatcher, EveryEventReachesTraceOnceItIsBack) {
  DispatcherHarness h(/*trace_up=*/false);
  h.Start();
  auto acked = PostAll(h, 0, 120);
  ASSERT_EQ(acked.size(), 120u);
  ASSERT_TRUE(h.proc->WaitForLog("trace unavailable; will retry"));
  h.StartTrace();
  ASSERT_EQ(h.trace->WaitFor(120, std::chrono::seconds(30)), 120u);
  std::set<std::string> ids;
  for (const auto& r : h.trace->received()) {
    ids.insert(r.header("x-tandem-id"));
    int i = std::stoi(r.header("x-tandem-id").substr(24));
    EXPECT_EQ(r.body, EventBody(i));
    EXPECT_EQ(r.header("x-tandem-role"), "live");
    EXPECT_EQ(r.header("x-tandem-received-at"), std::to_string(1700000000000 + i));
    EXPECT_EQ(r.header("user-agent"), "test-agent");
  }
  EXPECT_EQ(ids.size(), 120u);
}

TEST(Dispatcher, ARestartResumesBothConsumersWithoutReloadingOrResending) {
  DispatcherHarness h;
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 100).size(), 100u);
  ASSERT_EQ(h.trace->WaitFor(100), 100u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 100), 100);
  ASSERT_EQ(h.Stop(), 0);

  h.Start();
  auto listening = h.proc->WaitForLog("listening");
  uint64_t resumed_at = (*listening)["loader_position"].get<uint64_t>();
  EXPECT_GT(resumed_at, 0u);
  EXPECT_EQ((*listening)["forwarder_position"].get<uint64_t>(), resumed_at);
  ASSERT_EQ(PostAll(h, 100, 150).size(), 50u);
  ASSERT_EQ(h.trace->WaitFor(150), 150u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 50), 50)
      << "nothing was loaded twice";
  ASSERT_TRUE(
      h.proc->WaitForLog("loader caught up", std::chrono::seconds(20), PositionAbove(resumed_at)));
  std::set<std::string> ids;
  for (const auto& r : h.trace->received()) ids.insert(r.header("x-tandem-id"));
  EXPECT_EQ(ids.size(), 150u);
  EXPECT_EQ(h.trace->count(), 150u) << "nothing was sent to trace twice";
  EXPECT_EQ(h.Metric("tandem_dispatcher_loaded_rows_total"), 50) << "nothing was loaded twice";
  EXPECT_EQ(h.RawRows().size(), 150u);
}

TEST(Dispatcher, AFullSpoolAnswers503InsteadOfDroppingEvents) {
  // Trace is down, so the forwarder holds every segment: the spool fills up.
  DispatcherHarness h(/*trace_up=*/false, "", "", "    spool_max_bytes: 1048576\n");
  h.Start();
  const std::string big(2000, 'x');
  unsigned status = 202;
  int accepted = 0;
  for (int i = 0; i < 2000 && status == 202; ++i) {
    status = h.Post(TestId(i), 1700000000000 + i,
                    R"({"event":"pageview","deviceId":"d","properties":{"pad":")" + big + "\"}}");
    if (status == 202) ++accepted;
  }
  EXPECT_EQ(status, 503u) << "the spool never filled";
  EXPECT_GT(accepted, 300);
  EXPECT_LE(h.Metric("tandem_dispatcher_spool_bytes"), 1048576);
  EXPECT_GE(h.Metric("tandem_dispatcher_refused_total"), 1);
  // Nothing acknowledged is lost: every 202 is in raw.
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", accepted), accepted);
  EXPECT_EQ(h.RawRows().size(), static_cast<size_t>(accepted));
}

TEST(Dispatcher, LoadsIntoBigQueryOverHttpsWithTheServiceAccount) {
  TestPki pki;
  BigQueryStub stub(pki);
  std::string sa = pki.WriteServiceAccount(stub.token_uri());
  DispatcherHarness h(
      true,
      "{ kind: bigquery, project: test-project, dataset: \"tandem_{color}\", credentials_file: \"" +
          sa + "\", endpoint: \"" + stub.url() + "\", token_uri: \"" + stub.token_uri() + "\" }",
      "pipeline:\n  tls: { ca_file: \"" + pki.ca_cert + "\" }\n");
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 60).size(), 60u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 60), 60) << h.proc->Output();
  EXPECT_EQ(stub.tables(),
            (std::set<std::string>{"raw", "deliveries", "rejected", "raw_normalized"}));
  auto rows = stub.rows("raw");
  ASSERT_EQ(rows.size(), 60u);
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(rows.count(TestId(i)));
    // BigQuery STRING holds UTF-8 only; the spool keeps the original bytes of the others.
    if (i % 10 != 7) {
      EXPECT_EQ(rows[TestId(i)]["data"], EventBody(i));
    }
  }
  EXPECT_TRUE(stub.violations().empty()) << stub.violations().front();
  EXPECT_EQ(h.Stop(), 0);
}

}  // namespace
}  // namespace tandem::testing

namespace tandem::testing {
namespace {

TEST(Dispatcher, ABacklogGoesToTraceInBatchesAndAFailedEventIsResentAlone) {
  DispatcherHarness h(/*trace_up=*/false);
  h.Start();
  ASSERT_TRUE(LeaveBacklog(h, 0, 200));
  // Trace fails one event of the backlog.
  h.trace->set_status_for(TestId(5), 503);
  h.Start();
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 199), 199);
  ASSERT_GE(
      WaitForMetricAtLeast(h.MetricsUrl(), "tandem_dispatcher_forwarded_total{outcome=\"retry\"}",
                           2, std::chrono::seconds(30)),
      2);
  h.trace->set_status_for(TestId(5), 202);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 200,
                            std::chrono::seconds(30)),
            200);
  auto received = h.trace->received();
  size_t largest = 0;
  std::vector<size_t> sends_of_5;
  for (const auto& r : received) {
    EXPECT_EQ(r.target, "/v1/event-batch");
    largest = std::max(largest, r.batch_size);
    if (r.header("x-tandem-id") == TestId(5)) sends_of_5.push_back(r.batch_size);
  }
  EXPECT_GT(largest, 1u) << "the backlog went out in batches";
  EXPECT_LE(largest, 64u);
  EXPECT_LT(h.trace->requests(), 20u) << "200 events and a few resends";
  ASSERT_GE(sends_of_5.size(), 3u);
  EXPECT_GT(sends_of_5[0], 1u) << "first sent with the others";
  for (size_t i = 1; i < sends_of_5.size(); ++i) EXPECT_EQ(sends_of_5[i], 1u) << "resend " << i;
  EXPECT_EQ(h.Metric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}"), 0);
}

}  // namespace
}  // namespace tandem::testing
