// What trace promises as a whole: no personal data reaches a vendor, a capture
// file or Sentry; both colors record the same payload hashes whatever their
// candidate mode; outgoing calls are HTTPS only; and kill -9 under load, or a
// dataset locked while events flow, loses nothing while every duplicate a
// vendor sees carries its idempotency key.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <future>
#include <set>

#include "tests/support/dispatcher_harness.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/privacy_corpus.h"
#include "tests/support/sqlite_rows.h"
#include "tests/support/trace_harness.h"
#include "tests/support/trace_vendors.h"

namespace tandem::testing {
namespace {

using nlohmann::json;

std::string Everything(const VendorStub& v) {
  std::string all;
  for (const auto& r : v.requests()) all += r.target + "\n" + r.body + "\n";
  return all;
}

// The distinct events a vendor saw (by `key`, its idempotency key) and how many
// copies came again; a copy that differs from the first fails the test.
std::pair<size_t, size_t> KeyedCopies(const VendorStub& v, const char* key) {
  std::map<std::string, std::string> seen;
  size_t duplicates = 0;
  for (const auto& r : v.requests()) {
    json body = r.json();
    for (const auto& e : body["events"]) {
      std::string k = e[key];
      auto [it, fresh] = seen.emplace(k, e.dump());
      if (!fresh) {
        ++duplicates;
        EXPECT_EQ(it->second, e.dump()) << "a resend differs from the first copy";
      }
    }
  }
  return {seen.size(), duplicates};
}

// Events in raw that have all five deliveries, or their rejected row.
size_t EventsWithTheirRows(const std::string& db) {
  return QueryRows(db,
                   "SELECT r.tandem_id FROM raw r WHERE "
                   "(SELECT count(*) FROM deliveries d WHERE d.tandem_id = r.tandem_id) = 5 "
                   "OR EXISTS (SELECT 1 FROM rejected j WHERE j.tandem_id = r.tandem_id)")
      .size();
}

// Polls (rows land in batches) until `n` events have their rows or a minute passes.
size_t WaitForEventsWithTheirRows(const std::string& db, size_t n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  size_t covered = EventsWithTheirRows(db);
  while (covered < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    covered = EventsWithTheirRows(db);
  }
  return covered;
}

std::unique_ptr<Process> StartTrace(const DispatcherHarness& d, const Vendors& vendors) {
  auto p = std::make_unique<Process>(
      std::vector<std::string>{TandemBinary(), "trace", "-c", d.dir.path() + "/tandem.yaml",
                               "--color", "blue"},
      vendors.Env());
  EXPECT_TRUE(p->WaitForLog("listening")) << p->Output();
  return p;
}

TEST(TraceGuaranteesTest, PrivacyCorpusReachesNoVendorCaptureFileOrSentry) {
  Vendors vendors;
  // Every Amplitude answer is a 400 naming the first event, so Sentry gets reports
  // carrying payloads too.
  vendors.amplitude.set_answer([](const VendorRequest&, size_t) {
    return VendorStub::Reply(400, R"({"code":400,"events_with_invalid_fields":{"time":[0]}})");
  });
  TraceHarness h(vendors.PipelineYaml());
  h.Start(vendors.Env());
  auto corpus = PrivacyCorpus();
  ASSERT_GE(corpus.size(), 100u);
  for (size_t base = 0; base < corpus.size(); base += 8) {
    std::vector<std::future<unsigned>> f;
    for (size_t i = base; i < std::min(corpus.size(), base + 8); ++i) {
      StampedPost p = Event(static_cast<int>(i));
      p.body = corpus[i].body;
      p.headers = {{"User-Agent", corpus[i].user_agent},
                   {"X-Forwarded-For", corpus[i].forwarded_for},
                   {"Referer", corpus[i].referer},
                   {"Accept-Language", corpus[i].accept_language}};
      f.push_back(std::async(std::launch::async, [&h, p] { return h.Post(p); }));
    }
    for (auto& x : f) ASSERT_EQ(x.get(), 200u);
  }
  ASSERT_TRUE(vendors.sentry.WaitUntil([](auto& r) { return !r.empty(); }));
  std::map<std::string, std::string> downstream = {
      {"ga4", Everything(vendors.ga)},
      {"amplitude", Everything(vendors.amplitude)},
      {"heap", Everything(vendors.heap)},
      {"webhook", Everything(vendors.webhook)},
      {"sentry", Everything(vendors.sentry)},
      {"capture file", ReadFile(h.dir.path() + "/capture-blue.jsonl")}};
  for (const auto& [where, text] : downstream) ASSERT_FALSE(text.empty()) << where;
  for (const auto& c : corpus) {
    for (const auto& bad : c.forbidden) {
      for (const auto& [where, text] : downstream) {
        EXPECT_EQ(text.find(bad), std::string::npos)
            << c.name << ": '" << bad << "' reached " << where;
      }
    }
    for (const auto& good : c.expected) {
      EXPECT_NE(downstream["capture file"].find(good), std::string::npos)
          << c.name << ": clean value '" << good << "' lost";
    }
  }
}

TEST(TraceGuaranteesTest, BothColorsRecordTheSamePayloadHashesWhateverTheirCandidateMode) {
  Vendors vendors;
  TraceHarness blue(vendors.PipelineYaml(), "blue");
  TraceHarness green(vendors.PipelineYaml(), "green");
  blue.Start(vendors.Env());
  green.Start(vendors.Env());
  for (int i = 0; i < 20; ++i) {
    StampedPost p = Event(i);
    ASSERT_EQ(blue.Post(p), 200u);
    p.role = "candidate";  // green is the candidate: ga validates, heap stages, the rest skip
    ASSERT_EQ(green.Post(p), 200u);
  }
  auto b = blue.Deliveries();
  auto g = green.Deliveries();
  ASSERT_EQ(b.size(), 100u);
  ASSERT_EQ(g.size(), 100u);
  std::set<std::string> outcomes;
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(b[i]["tandem_id"], g[i]["tandem_id"]);
    EXPECT_EQ(b[i]["vendor"], g[i]["vendor"]);
    EXPECT_EQ(b[i]["payload_hash"], g[i]["payload_hash"]) << b[i]["vendor"];
    EXPECT_EQ(b[i]["payload"], g[i]["payload"]);
    outcomes.insert(g[i]["vendor"] + ":" + g[i]["outcome"]);
  }
  EXPECT_TRUE(outcomes.count("amp:skipped"));
  EXPECT_TRUE(outcomes.count("hooks:skipped"));
  EXPECT_TRUE(outcomes.count("ga:delivered"));  // validated
}

TEST(TraceGuaranteesTest, HttpVendorOrSentryUrlIsAConfigError) {
  Vendors vendors;
  TempDir dir;
  TestConfig c;
  c.extra =
      "pipeline:\n  trackers:\n    - { name: hooks, kind: webhook, endpoint: "
      "\"http://127.0.0.1:9/hooks\" }\n";
  std::string file = c.Write(dir.path());
  Process check({TandemBinary(), "check-config", file});
  EXPECT_EQ(check.Wait(), 2);
  EXPECT_NE(check.Output().find("tandem.yaml:"), std::string::npos) << check.Output();
  EXPECT_NE(check.Output().find("https://"), std::string::npos) << check.Output();

  TraceHarness h(vendors.PipelineYaml());
  std::vector<std::string> env = vendors.Env();
  env.back() = "TANDEM_TEST_SENTRY_DSN=http://publickey1@127.0.0.1:9/42";
  Process trace({TandemBinary(), "trace", "-c", h.dir.path() + "/tandem.yaml", "--color", "blue"},
                env);
  EXPECT_EQ(trace.Wait(), 2);
  EXPECT_NE(trace.Output().find("https://"), std::string::npos) << trace.Output();
}

// The dispatcher forwards to a real trace, which is killed mid-load and started again.
TEST(TraceGuaranteesTest, Kill9UnderLoadLosesNothingAndDuplicatesCarryTheirKeys) {
  Vendors vendors;
  uint16_t trace_port = ClosedPort();
  DispatcherHarness d(/*trace_up=*/false);
  d.config.blue.trace_listen = "127.0.0.1:" + std::to_string(trace_port);
  TrackerOptions o;
  d.config.extra = vendors.PipelineYaml(o);
  d.Rewrite();
  d.Start();
  auto trace = StartTrace(d, vendors);
  std::vector<std::string> acked;
  auto sender = std::async(std::launch::async, [&] { return PostAll(d, 0, 400); });
  // Kill trace once it has delivered part of the load.
  ASSERT_TRUE(vendors.webhook.WaitUntil([](auto& requests) {
    size_t events = 0;
    for (const auto& r : requests) events += r.json()["events"].size();
    return events >= 50;
  }));
  trace->Signal(SIGKILL);
  trace->Wait();
  trace = StartTrace(d, vendors);
  acked = sender.get();
  ASSERT_EQ(acked.size(), 400u);

  // Every event in raw ends with its five deliveries, or its rejected row.
  ASSERT_EQ(WaitForEventsWithTheirRows(d.db_path(), 400), 400u);
  EXPECT_EQ(QueryRows(d.db_path(), "SELECT * FROM raw").size(), 400u);

  // A vendor may have seen an event twice (sent, then trace died before its row
  // was written); every copy carries the same idempotency key and the same bytes.
  auto [amp_events, amp_dups] = KeyedCopies(vendors.amplitude, "insert_id");
  auto [heap_events, heap_dups] = KeyedCopies(vendors.heap, "idempotency_key");
  auto [hook_events, hook_dups] = KeyedCopies(vendors.webhook, "id");
  size_t valid = QueryRows(d.db_path(), "SELECT * FROM deliveries WHERE vendor = 'amp'").size();
  EXPECT_EQ(amp_events, valid);
  EXPECT_EQ(heap_events, valid);
  EXPECT_EQ(hook_events, valid);
  // Resends are bounded by what was in flight when trace died.
  EXPECT_LE(amp_dups + heap_dups + hook_dups, 3u * 256u);
  trace->Signal(SIGTERM);
  EXPECT_EQ(trace->Wait(), 0);
}

// Someone holds the dataset's write lock while events flow (a backup, a long
// transaction in the sqlite3 shell): trace's writes fail after their retries,
// it answers 503, the dispatcher sends the events again, and once the lock is
// gone every event has its rows, nothing is parked, and every copy a vendor
// saw twice carries its idempotency key.
TEST(TraceGuaranteesTest, ADatasetLockedWhileEventsFlowLosesNothing) {
  Vendors vendors;
  DispatcherHarness d(/*trace_up=*/false);
  d.config.blue.trace_listen = "127.0.0.1:" + std::to_string(ClosedPort());
  d.config.extra = vendors.PipelineYaml();
  d.Rewrite();
  d.Start();
  auto trace = StartTrace(d, vendors);
  const std::string trace_metrics = "http://" + d.config.blue.trace_listen + "/metrics";
  // The first events make the tables and show the path works before the lock.
  ASSERT_EQ(PostAll(d, 0, 20).size(), 20u);
  ASSERT_EQ(WaitForEventsWithTheirRows(d.db_path(), 20), 20u);

  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(d.db_path().c_str(), &lock), SQLITE_OK);
  // Closing rolls back: a failed assertion below does not leave the lock held.
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> close_lock(lock, sqlite3_close);
  sqlite3_busy_timeout(lock, 10000);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(lock);
  ASSERT_EQ(PostAll(d, 20, 220).size(), 200u);  // the spool takes them all the same
  // One write failed all its attempts (4) and its events were answered 503;
  // the dispatcher sent them again.
  EXPECT_GE(WaitForMetricAtLeast(trace_metrics, "tandem_trace_dataset_write_failures_total", 4,
                                 std::chrono::seconds(30)),
            4);
  EXPECT_GE(
      WaitForMetricAtLeast(d.MetricsUrl(), R"(tandem_dispatcher_forwarded_total{outcome="retry"})",
                           1, std::chrono::seconds(30)),
      1);
  EXPECT_EQ(EventsWithTheirRows(d.db_path()), 20u);  // read through the lock (WAL)
  EXPECT_GE(WaitForMetricAtLeast(trace_metrics, "tandem_trace_redeliveries_total", 1,
                                 std::chrono::seconds(30)),
            1);
  ASSERT_EQ(sqlite3_exec(lock, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  close_lock.reset();

  ASSERT_EQ(WaitForEventsWithTheirRows(d.db_path(), 220), 220u);
  EXPECT_EQ(QueryRows(d.db_path(), "SELECT * FROM raw").size(), 220u);
  EXPECT_EQ(d.Metric(R"(tandem_dispatcher_parked_total{reason="trace_refused"})"), 0);
  EXPECT_EQ(d.Metric(R"(tandem_dispatcher_parked_total{reason="dead_letter"})"), 0);
  size_t valid = QueryRows(d.db_path(), "SELECT * FROM deliveries WHERE vendor = 'amp'").size();
  auto [amp_events, amp_dups] = KeyedCopies(vendors.amplitude, "insert_id");
  auto [heap_events, heap_dups] = KeyedCopies(vendors.heap, "idempotency_key");
  auto [hook_events, hook_dups] = KeyedCopies(vendors.webhook, "id");
  EXPECT_EQ(amp_events, valid);
  EXPECT_EQ(heap_events, valid);
  EXPECT_EQ(hook_events, valid);
  // The events whose rows could not be written went to the vendors again, as
  // the same copies with the same keys.
  EXPECT_GE(amp_dups, 1u);
  EXPECT_GE(heap_dups, 1u);
  EXPECT_GE(hook_dups, 1u);
  trace->Signal(SIGTERM);
  EXPECT_EQ(trace->Wait(), 0);
}

}  // namespace
}  // namespace tandem::testing
