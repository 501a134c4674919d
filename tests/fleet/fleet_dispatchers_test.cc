// A color with several dispatchers (colors.C.dispatchers, issue 10): the
// splitter spreads the color's copies over them, and one that is down costs
// clients nothing, live or candidate.
#include <gtest/gtest.h>

#include <future>
#include <set>

#include "tests/support/dispatcher_harness.h"
#include "tests/support/splitter_harness.h"
#include "tests/support/sqlite_rows.h"
#include "tests/support/stub_upstream.h"

namespace tandem::testing {
namespace {

std::string Event(int i) {
  return R"({"event":"pageview","deviceId":"d-)" + std::to_string(i) + R"(","properties":{}})";
}

std::string Addresses(const std::vector<uint16_t>& ports) {
  std::string out = "    dispatchers: [";
  for (size_t i = 0; i < ports.size(); ++i) {
    out += (i ? ", \"127.0.0.1:" : "\"127.0.0.1:") + std::to_string(ports[i]) + "\"";
  }
  return out + "]\n";
}

std::set<std::string> Ids(const StubUpstream& s) {
  std::set<std::string> out;
  for (const auto& r : s.received()) out.insert(r.header("x-tandem-id"));
  return out;
}

TEST(Dispatchers, ALiveColorsTrafficIsSpreadOverItsDispatchersAndOneDownCostsNoErrors) {
  SplitterHarness h;  // green is live
  auto second = std::make_unique<StubUpstream>();
  h.config.green.extra = Addresses({h.green->port(), second->port()});
  h.WriteConfig("");
  h.Start();
  for (int i = 0; i < 100; ++i) {
    auto r = h.Post(Event(i));
    ASSERT_FALSE(r.ec);
    ASSERT_EQ(r.res.result_int(), 202u) << i;
  }
  // Round robin: both took a fair share.
  EXPECT_GE(h.green->count(), 30u);
  EXPECT_GE(second->count(), 30u);
  EXPECT_EQ(h.green->count() + second->count(), 100u);

  // One dispatcher goes away: every client still gets its 202.
  uint16_t gone = second->port();
  second.reset();
  size_t first_before = h.green->count();
  for (int i = 100; i < 300; ++i) {
    auto r = h.Post(Event(i));
    ASSERT_FALSE(r.ec);
    ASSERT_EQ(r.res.result_int(), 202u) << i;
  }
  EXPECT_EQ(h.green->count() - first_before, 200u);
  std::string addr = "127.0.0.1:" + std::to_string(gone);
  EXPECT_GE(h.Metric("tandem_splitter_dispatcher_requests_total{address=\"" + addr +
                     "\",color=\"green\",outcome=\"error\"}"),
            1);
  EXPECT_EQ(h.Metric("tandem_splitter_forwarded_total{color=\"green\",outcome=\"error\",role="
                     "\"live\"}"),
            0);
}

TEST(Dispatchers, ALiveCopyADispatcherMayHaveTakenIsNeverSentToAnother) {
  // A dispatcher that read the request and then died may have spooled it: a
  // second dispatcher would send the event through trace to the vendors again.
  SplitterHarness h;
  auto holding = std::make_unique<StubUpstream>();
  holding->set_status(0);  // reads requests, never answers
  h.config.green.extra = Addresses({holding->port(), h.green->port()});
  h.WriteConfig("");
  h.Start();
  auto answer = std::async(std::launch::async, [&] { return h.Post(Event(1)); });
  ASSERT_EQ(holding->WaitFor(1), 1u);
  holding.reset();  // dies holding it
  auto r = answer.get();
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 502u);
  EXPECT_EQ(h.green->count(), 0u);
}

TEST(Dispatchers, ADispatcherThatNeverAnswersIsSkippedNotTriedOnEveryOtherRequest) {
  // A host that is off answers nothing, not even a reset: each request sent to
  // it waits for the whole timeout. It must be skipped, like one that refuses.
  // One worker thread: each worker learns of a failed address on its own.
  SplitterHarness h(
      SplitterHarnessOptions{.extra_splitter_yaml = "  upstream_timeout_ms: 300\n  threads: 1\n"});
  StubUpstream silent;
  silent.set_status(0);
  h.config.green.extra = Addresses({h.green->port(), silent.port()});
  h.WriteConfig(h.opts.extra_splitter_yaml);
  h.Start();
  int timeouts = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = h.Post(Event(i));
    ASSERT_FALSE(r.ec);
    if (r.res.result_int() == 504) ++timeouts;
  }
  // Round robin alone sends it 20. The growing backoff (100 ms doubling) tries it
  // about log2(T / 100 ms) + 1 times in a run of T seconds: 6 for 3 s, 9 for 25 s.
  EXPECT_LE(timeouts, 10);
  EXPECT_GE(h.green->count(), 30u);
}

TEST(Dispatchers, ACandidateDispatcherThatIsDownLosesNoCopies) {
  SplitterHarness h;  // blue is the candidate
  uint16_t closed = ClosedPort();
  h.config.blue.extra = Addresses({h.blue->port(), closed});
  h.WriteConfig("");
  h.Start();
  std::set<std::string> accepted;
  for (int i = 0; i < 100; ++i) {
    auto r = h.Post(Event(i));
    ASSERT_FALSE(r.ec);
    ASSERT_EQ(r.res.result_int(), 202u);
    accepted.insert(nlohmann::json::parse(r.res.body())["id"].get<std::string>());
  }
  // Copies that met the closed address were sent again to the other one.
  ASSERT_EQ(h.blue->WaitFor(100), 100u);
  EXPECT_EQ(Ids(*h.blue), accepted);
  EXPECT_EQ(h.WaitForMetric("tandem_splitter_forwarded_total{color=\"blue\",outcome=\"ok\",role="
                            "\"candidate\"}",
                            100),
            100);
}

TEST(Dispatchers, TwoRealDispatchersShareTheColorsDatasetExactlyOnceAndOneKilledCostsNoErrors) {
  TempDir shared;
  const std::string db = shared.path() + "/blue.db";
  const std::string dataset = "{ kind: sqlite, path: \"" + db + "\" }";
  DispatcherHarness d1(true, dataset), d2(true, dataset);  // each its own spool
  d1.Start();
  d2.Start();
  SplitterHarness h(SplitterHarnessOptions{.extra_splitter_yaml = "  initial_live: blue\n"});
  h.config.blue.extra = Addresses({d1.port, d2.port});
  h.WriteConfig(h.opts.extra_splitter_yaml);
  h.Start();
  std::set<std::string> accepted;
  auto post = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      auto r = h.Post(Event(i));
      ASSERT_FALSE(r.ec);
      ASSERT_EQ(r.res.result_int(), 202u) << i << " " << r.res.body();
      accepted.insert(nlohmann::json::parse(r.res.body())["id"].get<std::string>());
    }
  };
  post(0, 100);
  EXPECT_GT(d1.Metric("tandem_dispatcher_accepted_total"), 0);
  EXPECT_GT(d2.Metric("tandem_dispatcher_accepted_total"), 0);
  d2.Kill();
  post(100, 200);
  ASSERT_EQ(accepted.size(), 200u);
  // What d2 acknowledged before the kill is in its spool; its restart loads it.
  d2.Start();
  // One dataset, one row per accepted event.
  std::vector<Row> rows;
  ASSERT_TRUE(PollUntil(
      [&] {
        rows = QueryRows(db, "SELECT tandem_id FROM raw");
        return rows.size() >= accepted.size();
      },
      std::chrono::seconds(20)));
  std::set<std::string> in_raw;
  for (const auto& r : rows) in_raw.insert(r.at("tandem_id"));
  EXPECT_EQ(rows.size(), in_raw.size());
  EXPECT_EQ(in_raw, accepted);
}

}  // namespace
}  // namespace tandem::testing
