// The dispatcher under the faults an operator meets: a full spool, lost or
// corrupt spool files, events that can never be delivered or stored, a dataset
// that is not ready at start, a disk that refuses writes, a stray SIGHUP.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "tests/support/bigquery_stub.h"
#include "tests/support/dispatcher_harness.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/sqlite_rows.h"

namespace tandem::testing {
namespace {
namespace fs = std::filesystem;

std::string Padded(int i, size_t pad) {
  return R"({"event":"pageview","deviceId":"d-)" + std::to_string(i) +
         R"(","properties":{"pad":")" + std::string(pad, 'x') + "\"}}";
}

// Posts one at a time until the spool answers 503; returns the count acknowledged.
int FillUntilRefused(DispatcherHarness& h, int from) {
  for (int i = from; i < from + 100000; ++i) {
    unsigned status = h.Post(TestId(i), 1700000000000 + i, Padded(i, 2000));
    if (status == 503) return i - from;
    if (status != 202) ADD_FAILURE() << "status " << status;
  }
  ADD_FAILURE() << "the spool never filled";
  return 0;
}

std::string BigQueryDatasetYaml(const TestPki& pki, const BigQueryStub& stub) {
  return "{ kind: bigquery, project: test-project, dataset: \"tandem_{color}\", credentials_file: "
         "\"" +
         pki.WriteServiceAccount(stub.token_uri()) + "\", endpoint: \"" + stub.url() + "\" }";
}

std::string CaYaml(const TestPki& pki) {
  return "pipeline:\n  tls: { ca_file: \"" + pki.ca_cert + "\" }\n";
}

class FullSpool : public ::testing::TestWithParam<uint64_t> {};

// spool_max_bytes of 1 MiB and 4 MiB, both below the largest segment size.
TEST_P(FullSpool, AcceptsAgainOnceTheConsumersCatchUpWithoutARestart) {
  DispatcherHarness h(/*trace_up=*/false, "", "",
                      "    spool_max_bytes: " + std::to_string(GetParam()) + "\n");
  h.Start();
  int accepted = FillUntilRefused(h, 0);
  ASSERT_GT(accepted, 100);
  h.StartTrace();
  ASSERT_EQ(h.trace->WaitFor(accepted, std::chrono::seconds(60)), static_cast<size_t>(accepted));
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_spool_bytes", 0), 0) << h.proc->Output();
  for (int i = accepted; i < accepted + 50; ++i) {
    ASSERT_EQ(h.Post(TestId(100000 + i), 1700000000000 + i, Padded(i, 2000)), 202u) << i;
  }
}

TEST_P(FullSpool, AcceptsAgainAfterARestartOnceTheConsumersCatchUp) {
  DispatcherHarness h(/*trace_up=*/false, "", "",
                      "    spool_max_bytes: " + std::to_string(GetParam()) + "\n");
  h.Start();
  int accepted = FillUntilRefused(h, 0);
  ASSERT_GT(accepted, 100);
  ASSERT_EQ(h.Stop(), 0);
  h.StartTrace();
  h.Start();
  ASSERT_EQ(h.trace->WaitFor(accepted, std::chrono::seconds(60)), static_cast<size_t>(accepted));
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_spool_bytes", 0), 0) << h.proc->Output();
  EXPECT_EQ(h.Post(TestId(200000), 1700000000000, Padded(0, 2000)), 202u);
  EXPECT_EQ(h.WaitForRawRows(accepted + 1), static_cast<size_t>(accepted) + 1);
}

INSTANTIATE_TEST_SUITE_P(Sizes, FullSpool, ::testing::Values(1u << 20, 4u << 20));

TEST(SpoolDamage, LostSegmentsNeverHideNewEvents) {
  DispatcherHarness h;
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 100).size(), 100u);
  ASSERT_EQ(h.trace->WaitFor(100), 100u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 100), 100);
  ASSERT_EQ(h.Stop(), 0);
  for (const auto& e : fs::directory_iterator(h.dir.path() + "/spool-blue")) {
    if (e.path().extension() == ".seg") fs::remove(e.path());  // the disk lost them
  }
  h.Start();
  ASSERT_TRUE(h.proc->WaitForLog(
      "spool damage: the spool ends before its consumers' checkpoints (segments lost); new events "
      "are written after the checkpoints"));
  EXPECT_EQ(h.Metric("tandem_dispatcher_spool_damage_total{kind=\"behind_checkpoints\"}"), 1);
  ASSERT_EQ(PostAll(h, 100, 150).size(), 50u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 50), 50) << h.proc->Output();
  ASSERT_EQ(h.trace->WaitFor(150), 150u);
  std::set<std::string> sent;
  for (const auto& r : h.trace->received()) sent.insert(r.header("x-tandem-id"));
  for (int i = 100; i < 150; ++i) EXPECT_TRUE(sent.count(TestId(i))) << i;
  EXPECT_EQ(h.WaitForRawRows(150), 150u);
}

TEST(SpoolDamage, ACorruptFrameDoesNotCutOffTheAcknowledgedEventsAfterIt) {
  DispatcherHarness h(/*trace_up=*/false);
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 100).size(), 100u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 100), 100);
  ASSERT_EQ(h.Stop(), 0);
  std::string seg;
  for (const auto& e : fs::directory_iterator(h.dir.path() + "/spool-blue")) {
    if (e.path().extension() == ".seg") seg = e.path().string();
  }
  ASSERT_FALSE(seg.empty());
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(seg) / 2));
    f.write("\x00\x00\x00\x00", 4);  // one frame in the middle
  }
  h.StartTrace();
  h.Start();
  ASSERT_TRUE(h.proc->WaitForLog(
      "spool damage: corrupt bytes inside the last segment; the events after them are kept"));
  ASSERT_GE(h.trace->WaitFor(99, std::chrono::seconds(30)), 99u) << h.proc->Output();
  EXPECT_GT(
      WaitForMetricAtLeast(h.MetricsUrl(),
                           "tandem_dispatcher_spool_skipped_bytes_total{consumer=\"forwarder\"}", 1,
                           std::chrono::seconds(20)),
      0);
  std::set<std::string> sent;
  for (const auto& r : h.trace->received()) sent.insert(r.header("x-tandem-id"));
  EXPECT_GE(sent.size(), 99u);
  EXPECT_TRUE(sent.count(TestId(99))) << "the last event is kept";
  // New events flow as usual.
  ASSERT_EQ(PostAll(h, 100, 110).size(), 10u);
  EXPECT_GE(h.trace->WaitFor(109), 109u);
}

TEST(Poison, AnEventTraceRefusesIsRecordedAsTraceRefusedAndTheOthersFlow) {
  DispatcherHarness h;
  h.trace->set_status_for(TestId(7), 400);
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 30).size(), 30u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}", 1), 1);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 29), 29);
  EXPECT_EQ(h.Metric("tandem_dispatcher_forwarded_total{outcome=\"refused\"}"), 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(h.db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT tandem_id, reason FROM rejected", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), TestId(7));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1))),
            "trace_refused");
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
  // It is passed for good: a restart does not send it again.
  ASSERT_EQ(h.Stop(), 0);
  size_t before = h.trace->count();
  h.Start();
  ASSERT_EQ(PostAll(h, 30, 31).size(), 1u);
  ASSERT_EQ(h.trace->WaitFor(before + 1), before + 1);
  EXPECT_EQ(h.trace->count(), before + 1);
}

TEST(Poison, AnEventThatFailsPastTheRetryBudgetWhileOthersFlowIsParked) {
  DispatcherHarness h;
  h.trace->set_status_for(TestId(3), 500);  // trace fails on this one event only
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 10).size(), 10u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}", 1,
                            std::chrono::seconds(60)),
            1);
  EXPECT_EQ(h.Metric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}"), 9);
  // The budget is 8 sends: 7 retries, then it is parked.
  EXPECT_EQ(h.Metric("tandem_dispatcher_forwarded_total{outcome=\"retry\"}"), 7);
}

TEST(Poison, AnEventInFlightWhenTraceDiesIsNotParkedHoweverLongTraceIsDown) {
  // Found by the crash test: an event sent while others succeeded, then caught
  // by a trace crash, used its retry budget while trace restarted and was parked
  // as trace_refused, so its color never delivered it.
  DispatcherHarness h;
  h.trace->set_status_for(TestId(0), 0);  // held until trace dies
  h.Start();
  // Event 0 first and on its own, so the others are not in its batch.
  ASSERT_EQ(PostAll(h, 0, 1).size(), 1u);
  ASSERT_EQ(h.trace->WaitFor(1), 1u);
  ASSERT_EQ(PostAll(h, 1, 10).size(), 9u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 9), 9);
  h.trace.reset();  // trace dies with event 0 in flight
  // Trace stays down for more sends of event 0 than the retry budget (8).
  ASSERT_GE(
      WaitForMetricAtLeast(h.MetricsUrl(), "tandem_dispatcher_forwarded_total{outcome=\"retry\"}",
                           8, std::chrono::seconds(60)),
      8);
  EXPECT_EQ(h.Metric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}"), 0);
  h.StartTrace();
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 10,
                            std::chrono::seconds(30)),
            10);
  EXPECT_EQ(h.Metric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}"), 0);
  ASSERT_EQ(h.trace->WaitFor(1), 1u);
  EXPECT_EQ(h.trace->received()[0].header("x-tandem-id"), TestId(0));
}

TEST(Poison, AServiceOnTraceListenThatAnswers200ToAnythingTakesNothing) {
  // Not trace (or a trace that does not speak batches): its 2xx has no status
  // per event, so no event is taken as delivered; they wait, nothing is parked.
  DispatcherHarness h;
  h.trace->set_speaks_batches(false);
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 10).size(), 10u);
  ASSERT_GE(
      WaitForMetricAtLeast(h.MetricsUrl(), "tandem_dispatcher_forwarded_total{outcome=\"retry\"}",
                           20, std::chrono::seconds(20)),
      20);
  EXPECT_EQ(h.Metric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}"), 0);
  EXPECT_EQ(h.Metric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}"), 0);
  h.trace->set_speaks_batches(true);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 10,
                            std::chrono::seconds(30)),
            10);
  EXPECT_EQ(h.Metric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}"), 0);
}

TEST(Poison, ABatchRefusedAsAWholeParksOnlyTheEventThatIsRefusedAlone) {
  // A refusal of a whole batch (a proxy's 413, say) is about no event in
  // particular: each is sent again alone, and only the one refused alone is parked.
  DispatcherHarness h(/*trace_up=*/false);
  h.Start();
  ASSERT_TRUE(LeaveBacklog(h, 0, 200));
  // Answered after the other batches went through, so others flowed meanwhile.
  h.trace->set_batch_answer_for(TestId(150), 413, std::chrono::milliseconds(300));
  h.Start();
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}", 1,
                            std::chrono::seconds(30)),
            1);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 199,
                            std::chrono::seconds(30)),
            199);
  auto rejected = QueryRows(h.db_path(), "SELECT tandem_id, reason FROM rejected");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["tandem_id"], TestId(150));
  EXPECT_EQ(rejected[0]["reason"], "trace_refused");
  size_t batched_with_150 = 0;
  for (const auto& r : h.trace->received()) {
    if (r.header("x-tandem-id") == TestId(150))
      batched_with_150 = std::max(batched_with_150, r.batch_size);
  }
  EXPECT_GT(batched_with_150, 1u) << "it was first sent in a batch";
}

TEST(Poison, FailuresDuringAnOutageDoNotCountOnceTraceIsBack) {
  // Trace fails everything (a broken build answering 500) for longer than the
  // budget, then is fixed; one event then fails once more while the others flow.
  // It gets its own budget again, not parked at once.
  DispatcherHarness h;
  h.trace->set_status(500);
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 4).size(), 4u);
  ASSERT_GE(
      WaitForMetricAtLeast(h.MetricsUrl(), "tandem_dispatcher_forwarded_total{outcome=\"retry\"}",
                           4 * 8, std::chrono::seconds(60)),
      4 * 8);
  h.trace->set_status_for(TestId(2), 503);
  h.trace->set_status(202);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 3,
                            std::chrono::seconds(30)),
            3);
  // Event 2 fails again after the others went through.
  size_t seen = h.trace->count();
  ASSERT_GT(h.trace->WaitFor(seen + 1, std::chrono::seconds(30)), seen);
  h.trace->set_status_for(TestId(2), 202);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 4,
                            std::chrono::seconds(30)),
            4);
  EXPECT_EQ(h.Metric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}"), 0);
}

TEST(Poison, ATraceThatRefusesEverythingParksNothingAndEverythingFlowsOnceItIsFixed) {
  // A wrong trace_listen (another service answering 404) is not a poison event:
  // nothing is passed as trace_refused, events wait in the spool.
  DispatcherHarness h;
  h.trace->set_status(404);
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 10).size(), 10u);
  ASSERT_GE(
      WaitForMetricAtLeast(h.MetricsUrl(), "tandem_dispatcher_forwarded_total{outcome=\"retry\"}",
                           20, std::chrono::seconds(20)),
      20);
  EXPECT_EQ(h.Metric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}"), 0);
  h.trace->set_status(202);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_forwarded_total{outcome=\"ok\"}", 10,
                            std::chrono::seconds(30)),
            10);
  EXPECT_EQ(h.Metric("tandem_dispatcher_parked_total{reason=\"trace_refused\"}"), 0);
}

TEST(Poison, ARowTheDatasetRefusesForGoodGoesToTheDeadLetterFile) {
  TestPki pki;
  BigQueryStub stub(pki);
  stub.RejectRowsAlways({TestId(5)});
  DispatcherHarness h(true, BigQueryDatasetYaml(pki, stub), CaYaml(pki));
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 20).size(), 20u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_parked_total{reason=\"dead_letter\"}", 1), 1)
      << h.proc->Output();
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 19), 19);
  EXPECT_EQ(stub.rows("raw").size(), 19u);
  std::ifstream in(h.dir.path() + "/spool-blue/dead-letter.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["tandem_id"], TestId(5));
  EXPECT_EQ(j["table"], "raw");
  EXPECT_EQ(j["data"], EventBody(5));
  EXPECT_NE(j["reason"].get<std::string>().find("invalid"), std::string::npos) << line;
  EXPECT_FALSE(std::getline(in, line)) << "one line per refused row";
}

TEST(Dataset, ABootstrapThatFailedAtStartIsRetried) {
  TestPki pki;
  BigQueryStub stub(pki);
  stub.FailNextBootstraps(3);
  DispatcherHarness h(true, BigQueryDatasetYaml(pki, stub), CaYaml(pki));
  h.Start();
  ASSERT_TRUE(h.proc->WaitForLog("dataset not ready; events are spooled until it is"));
  ASSERT_EQ(PostAll(h, 0, 20).size(), 20u);
  ASSERT_EQ(h.WaitForMetric("tandem_dispatcher_loaded_rows_total", 20, std::chrono::seconds(30)),
            20)
      << h.proc->Output();
  EXPECT_EQ(stub.rows("raw").size(), 20u);
  EXPECT_TRUE(stub.tables().count("raw"));
}

TEST(Disk, AWriteErrorGives503sAndRecoversWithNothingAcknowledgedLost) {
  // Every file the dispatcher writes is capped at 256 KiB (RLIMIT_FSIZE), as a
  // filesystem that refuses to grow a file; the dataset is remote.
  TestPki pki;
  BigQueryStub stub(pki);
  DispatcherHarness h(true, BigQueryDatasetYaml(pki, stub), CaYaml(pki));
  h.file_size_limit = 256 << 10;
  h.Start();
  std::vector<std::string> acked;
  int refused = 0, accepted_after_refusal = 0;
  for (int i = 0; i < 2000 && accepted_after_refusal < 200; ++i) {
    unsigned status = h.Post(TestId(i), 1700000000000 + i, Padded(i, 500));
    ASSERT_TRUE(status == 202 || status == 503) << "status " << status << "\n" << h.proc->Output();
    if (status == 503) ++refused;
    if (status == 202) {
      acked.push_back(TestId(i));
      if (refused > 0) ++accepted_after_refusal;
    }
  }
  EXPECT_GT(refused, 0) << "the write error was never met";
  EXPECT_EQ(accepted_after_refusal, 200) << "the dispatcher did not recover";
  ASSERT_EQ(
      h.WaitForMetric("tandem_dispatcher_loaded_rows_total", static_cast<double>(acked.size())),
      static_cast<double>(acked.size()));
  auto rows = stub.rows("raw");
  for (const auto& id : acked) EXPECT_TRUE(rows.count(id)) << id;
  EXPECT_EQ(h.trace->WaitFor(acked.size()), acked.size());
}

// A real full disk: the spool on a 2 MiB tmpfs. Needs root (mount); skipped elsewhere.
TEST(Disk, AFullDiskGives503sAndRecoversOnceConsumersFreeSpace) {
  DispatcherHarness h;
  std::string mnt = h.dir.path() + "/spool-blue";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  h.Start();
  std::vector<std::string> acked;
  int refused = 0, accepted_after_refusal = 0;
  for (int i = 0; i < 20000 && accepted_after_refusal < 500; ++i) {
    unsigned status = h.Post(TestId(i), 1700000000000 + i, Padded(i, 1000));
    ASSERT_TRUE(status == 202 || status == 503) << "status " << status;
    if (status == 503) ++refused;
    if (status == 202) {
      acked.push_back(TestId(i));
      if (refused > 0) ++accepted_after_refusal;
    }
  }
  EXPECT_GT(refused, 0) << "the disk never filled";
  EXPECT_EQ(accepted_after_refusal, 500);
  ASSERT_EQ(
      h.WaitForMetric("tandem_dispatcher_loaded_rows_total", static_cast<double>(acked.size())),
      static_cast<double>(acked.size()));
  auto rows = h.RawRows();
  for (const auto& id : acked) EXPECT_TRUE(rows.count(id)) << id;
  ASSERT_EQ(h.Stop(), 0);
}

TEST(Signals, SighupReloadsAndKeepsTheDispatcherRunning) {
  DispatcherHarness h;
  h.Start();
  ASSERT_EQ(PostAll(h, 0, 5).size(), 5u);
  h.config.blue.extra += "    spool_max_bytes: 2097152\n";
  h.Rewrite();
  h.proc->Signal(SIGHUP);
  auto reloaded = h.proc->WaitForLog("config reloaded");
  ASSERT_TRUE(reloaded) << h.proc->Output();
  EXPECT_EQ((*reloaded)["spool_max_bytes"], 2097152);
  ASSERT_EQ(PostAll(h, 5, 10).size(), 5u);
  EXPECT_EQ(h.Stop(), 0);
}

}  // namespace
}  // namespace tandem::testing
