// Compare on generated datasets, in-process: what it finds and the verdict it
// gives for identical colors, each kind of bad release, thin evidence, an
// unreadable dataset, a promotion inside the history, and incremental runs.
#include <gtest/gtest.h>

#include <algorithm>

#include "compare/comparator.h"
#include "compare/compare_metrics.h"
#include "compare/loss_bound.h"
#include "compare/payload_diff.h"
#include "compare/report_page.h"
#include "datasets/bigquery_dataset.h"
#include "datasets/sqlite_dataset.h"
#include "tests/support/bigquery_stub.h"
#include "tests/support/compare_on_generated.h"
#include "tests/support/generated_datasets.h"
#include "tests/support/process.h"

namespace tandem::compare {
namespace {

using testing::GeneratedTraffic;
using testing::TrafficSpec;

using testing::kMinute;
using testing::kStart;

TEST_F(CompareOnGenerated, IdenticalColorsAreReady) {
  Write(testing::Generate(Spec()));
  Report r = Judge();
  EXPECT_EQ(r.verdict, Verdict::kReady) << Reasons(r);
  ASSERT_EQ(r.windows.size(), 3u);
  for (const auto& w : r.windows) {
    EXPECT_EQ(w.live_count, 2000u);
    EXPECT_EQ(w.candidate_count, 2000u);
    EXPECT_TRUE(w.pass);
    ASSERT_FALSE(w.deliveries.empty());
    for (const auto& v : w.deliveries) EXPECT_EQ(v.payload_mismatched, 0u);
  }
  EXPECT_EQ(r.evidence.sent_events, 6000u);
  EXPECT_LE(r.evidence.upper_bound, 0.001);
  EXPECT_NE(r.evidence.sentence.find("With 95% confidence the candidate drops fewer than"),
            std::string::npos)
      << r.evidence.sentence;
  EXPECT_EQ(r.live, "green");
  EXPECT_EQ(r.candidate, "blue");
}

TEST_F(CompareOnGenerated, APayloadFieldLostIsNotReadyNamingVendorEventAndField) {
  TrafficSpec s = Spec();
  s.strip_vendor = "amp";
  s.strip_event = "purchase product";
  s.strip_field = "category";
  Write(testing::Generate(s));
  Report r = Judge();
  EXPECT_EQ(r.verdict, Verdict::kNotReady) << Reasons(r);
  EXPECT_TRUE(Mentions(r, {"'amp'", "'purchase product'", "event_properties.category removed"}))
      << Reasons(r);
  // Every event still arrived: the raw counts agree.
  for (const auto& w : r.windows) EXPECT_EQ(w.live_count, w.candidate_count);
  const auto& last = r.windows.back();
  auto v = std::find_if(last.deliveries.begin(), last.deliveries.end(), [](const VendorStats& x) {
    return x.vendor == "amp" && x.event == "purchase product";
  });
  ASSERT_NE(v, last.deliveries.end());
  EXPECT_EQ(v->payload_mismatched, v->both);
  ASSERT_FALSE(v->fields.empty());
  EXPECT_EQ(v->fields[0].field, "event_properties.category");
  EXPECT_EQ(v->fields[0].change, "removed");
  EXPECT_NE(v->fields[0].live.find("cat-"), std::string::npos);
}

TEST_F(CompareOnGenerated, HalfAPercentOfOneEventDroppedIsNotReadyNamingIt) {
  TrafficSpec s = Spec();
  s.drop_event = "signup";
  s.drop_fraction = 0.005;
  s.events_per_window = 5000;  // ~500 signups a window, ~2.5 dropped
  auto t = testing::Generate(s);
  ASSERT_GT(t.dropped, 0u);
  Write(t);
  Report r = Judge();
  EXPECT_EQ(r.verdict, Verdict::kNotReady) << Reasons(r);
  EXPECT_TRUE(Mentions(r, {"event 'signup'", "missing in the candidate"})) << Reasons(r);
  EXPECT_FALSE(Mentions(r, {"event 'pageview'"})) << Reasons(r);
  uint64_t missing = 0;
  for (const auto& w : r.windows) missing += w.missing_in_candidate;
  EXPECT_EQ(missing, t.dropped);
}

TEST_F(CompareOnGenerated, OneAlteredPayloadIsReportedAsMismatched) {
  TrafficSpec s = Spec();
  s.windows = 1;
  s.alter_payloads = 1;
  Write(testing::Generate(s));
  Report r = Judge(1);
  ASSERT_EQ(r.windows.size(), 1u);
  uint64_t mismatched = 0;
  const VendorStats* hit = nullptr;
  for (const auto& v : r.windows[0].deliveries) {
    mismatched += v.payload_mismatched;
    if (v.payload_mismatched) hit = &v;
  }
  EXPECT_EQ(mismatched, 1u);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->vendor, "amp");
  EXPECT_EQ(hit->event, "pageview");
  ASSERT_EQ(hit->fields.size(), 1u);
  EXPECT_EQ(hit->fields[0].field, "event_properties.path");
  EXPECT_EQ(hit->fields[0].change, "changed");
  EXPECT_EQ(hit->fields[0].candidate, "\"/altered\"");
  EXPECT_EQ(hit->mismatched_ids.size(), 1u);
}

TEST_F(CompareOnGenerated, TooFewEventsIsInsufficientData) {
  TrafficSpec s = Spec();
  s.events_per_window = 40;
  Write(testing::Generate(s));
  Report r = Judge();
  EXPECT_EQ(r.verdict, Verdict::kInsufficientData) << Reasons(r);
  EXPECT_TRUE(Mentions(r, {"holds 40 events sent to the candidate", "needs 100"})) << Reasons(r);
}

TEST_F(CompareOnGenerated, PassingButThinEvidenceSaysHowManyMoreEventsItNeeds) {
  TrafficSpec s = Spec();
  s.events_per_window = 300;  // 900 events: the bound is ~0.33%, above 0.1%
  Write(testing::Generate(s));
  Report r = Judge();
  EXPECT_EQ(r.verdict, Verdict::kInsufficientData) << Reasons(r);
  ASSERT_TRUE(r.evidence.events_needed.has_value());
  // With no loss seen the bound needs about 3 / max_drift_ratio events.
  EXPECT_GE(*r.evidence.events_needed, 2900u);
  EXPECT_LE(*r.evidence.events_needed, 3100u);
  ASSERT_TRUE(r.evidence.seconds_needed.has_value());
  EXPECT_NE(r.evidence.needed.find("more events sent to the candidate"), std::string::npos)
      << r.evidence.needed;
  EXPECT_NE(r.evidence.needed.find("at the current rate"), std::string::npos) << r.evidence.needed;
}

TEST_F(CompareOnGenerated, NoDataIsInsufficientAndNeverReady) {
  Report r = Judge();
  EXPECT_EQ(r.verdict, Verdict::kInsufficientData) << Reasons(r);
  EXPECT_TRUE(r.windows.empty());
}

TEST_F(CompareOnGenerated, ADatasetThatCannotBeOpenedIsNeverReady) {
  Write(testing::Generate(Spec()));
  Comparator c(config_, [this](Color color) -> std::unique_ptr<Dataset> {
    if (color == Color::kBlue) throw std::runtime_error("blue.db: cannot open the SQLite dataset");
    return std::make_unique<SqliteDataset>(Path(color));
  });
  Report r = c.Run(kStart + 3 * kMinute + 15000, LiveState{Color::kGreen, 0});
  EXPECT_EQ(r.verdict, Verdict::kNotReady);
  EXPECT_TRUE(Mentions(r, {"blue dataset cannot be opened"})) << Reasons(r);
}

TEST_F(CompareOnGenerated, AMissingTableIsNeverReady) {
  Write(testing::Generate(Spec()));
  {
    SqliteDataset blue(Path(Color::kBlue));
    std::vector<std::vector<std::string>> rows;
    ASSERT_TRUE(blue.Query("DROP TABLE deliveries", rows).ok());
  }
  Report r = Judge();
  EXPECT_EQ(r.verdict, Verdict::kNotReady);
  EXPECT_TRUE(Mentions(r, {"blue dataset cannot be read"})) << Reasons(r);
}

TEST_F(CompareOnGenerated, AnUnknownLiveColorIsNeverReady) {
  Write(testing::Generate(Spec()));
  Comparator c(config_, Opener());
  Report r = c.Run(kStart + 3 * kMinute + 15000, std::nullopt, nullptr, "connection refused");
  EXPECT_EQ(r.verdict, Verdict::kNotReady);
  EXPECT_TRUE(Mentions(r, {"live color is unknown", "connection refused"})) << Reasons(r);
}

TEST_F(CompareOnGenerated, AWindowSpanningAPromotionIsReportedAndNotJudged) {
  TrafficSpec s = Spec();
  s.windows = 5;
  Write(testing::Generate(s));
  // Promoted in the middle of the second window.
  Report r = Judge(5, LiveState{Color::kGreen, kStart + kMinute + 20000});
  ASSERT_EQ(r.windows.size(), 4u);
  EXPECT_EQ(r.windows[0].state, WindowState::kSpansSwap);
  EXPECT_EQ(r.windows[0].start_ms, kStart + kMinute);
  EXPECT_FALSE(r.windows[0].pass);
  for (size_t i = 1; i < r.windows.size(); ++i) EXPECT_EQ(r.windows[i].state, WindowState::kJudged);
  EXPECT_EQ(r.verdict, Verdict::kReady) << Reasons(r);  // three judged windows after it
}

TEST_F(CompareOnGenerated, EachWindowIsReadOnceAndAPromotionStartsAfresh) {
  TrafficSpec s = Spec();
  s.windows = 4;
  Write(testing::Generate(s));
  Comparator c(config_, Opener());
  RunStats first, again, later, swapped;
  c.Run(kStart + 3 * kMinute + 15000, LiveState{Color::kGreen, 0}, &first);
  c.Run(kStart + 3 * kMinute + 16000, LiveState{Color::kGreen, 0}, &again);
  Report r = c.Run(kStart + 4 * kMinute + 15000, LiveState{Color::kGreen, 0}, &later);
  EXPECT_EQ(first.windows_judged, 3u);
  EXPECT_EQ(again.windows_judged, 0u) << "nothing new settled: nothing is read again";
  EXPECT_EQ(later.windows_judged, 1u);
  EXPECT_EQ(r.windows.size(), 4u);
  c.Run(kStart + 4 * kMinute + 16000, LiveState{Color::kBlue, kStart + 4 * kMinute + 15500},
        &swapped);
  EXPECT_EQ(swapped.windows_judged, 0u) << "no window after the promotion has settled yet";
}

TEST_F(CompareOnGenerated, LateRowsInsideSettleAreNotCalledMissing) {
  TrafficSpec s = Spec();
  s.windows = 6;
  s.late_mean_ms = 2000;
  s.late_max_ms = 14000;  // inside settle_seconds (15 s)
  auto t = testing::Generate(s);
  SqliteDataset live(Path(Color::kGreen)), candidate(Path(Color::kBlue));
  Comparator c(config_, Opener());
  Report r;
  int64_t written = INT64_MIN;
  // Time moves in 5 s steps; rows land as they arrive; compare runs each step.
  for (int64_t now = kStart; now <= kStart + 6 * kMinute + 15000; now += 5000) {
    testing::WriteArrived(t.live, live, written, now);
    testing::WriteArrived(t.candidate, candidate, written, now);
    written = now;
    r = c.Run(now, LiveState{Color::kGreen, 0});
    ASSERT_NE(r.verdict, Verdict::kNotReady) << "at " << now - kStart << " ms\n" << Reasons(r);
  }
  EXPECT_EQ(r.verdict, Verdict::kReady) << Reasons(r);
  EXPECT_EQ(r.windows.size(), 6u);
}

TEST_F(CompareOnGenerated, ThePageShowsTheVerdictAndEscapesWhatClientsSent) {
  TrafficSpec s = Spec();
  s.drop_event = "signup";
  s.drop_fraction = 0.05;
  Write(testing::Generate(s));
  {
    SqliteDataset live(Path(Color::kGreen));
    ASSERT_TRUE(live.InsertRaw({{"0190aaaa-0000-7000-8000-000000000001", kStart + 1000,
                                 R"({"event":"<script>alert(1)</script>","deviceId":"d"})"}})
                    .status.ok());
  }
  Report r = Judge();
  std::string html = RenderReportPage(&r);
  EXPECT_NE(html.find("class=\"verdict not_ready\">not_ready<"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos) << "a client's event name is escaped";
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<svg id=\"drift\""), std::string::npos);
  EXPECT_EQ(std::count(html.begin(), html.end(), '\n'), 0) << "one document, no stray output";
  EXPECT_NE(html.find("<tr class=\"FAIL\">"), std::string::npos);
  EXPECT_NE(html.find("<td>signup</td>"), std::string::npos);
  EXPECT_EQ(RenderReportPage(nullptr).find("starting") != std::string::npos, true);
}

// The latest judged window's gauges describe that window only: an event label
// seen in an earlier window goes back to 0 (a stale drift would keep the drift
// alert firing while the verdict is ready).
TEST(CompareMetricsGauges, ALabelAbsentFromTheLatestWindowReadsZeroNotItsOldValue) {
  Metrics m;
  CompareMetrics cm(m, {"pageview"}, {"capture"});
  auto report_with = [](std::vector<EventStats> events) {
    Report r;
    r.live = "green";
    r.candidate = "blue";
    WindowReport w;
    w.events = std::move(events);
    r.windows.push_back(w);
    return r;
  };
  EventStats pageview{.event = "pageview", .live = 10, .candidate = 10, .sent = 10};
  EventStats invalid{.event = "(invalid)", .live = 0, .candidate = 1};
  EventStats other{.event = "someone's name", .live = 2, .candidate = 1, .sent = 2};
  cm.Record(report_with({pageview, invalid, other}), {}, 0.1);
  std::string text = m.Serialize();
  EXPECT_NE(text.find("tandem_compare_drift_ratio{event=\"(invalid)\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("tandem_compare_drift_ratio{event=\"(other)\"} -0.5"), std::string::npos)
      << text;
  cm.Record(report_with({pageview}), {}, 0.1);
  text = m.Serialize();
  EXPECT_NE(text.find("tandem_compare_drift_ratio{event=\"(invalid)\"} 0"), std::string::npos)
      << text;
  EXPECT_NE(text.find("tandem_compare_drift_ratio{event=\"(other)\"} 0"), std::string::npos)
      << text;
  EXPECT_NE(text.find("tandem_compare_events{color=\"blue\",event=\"(invalid)\"} 0"),
            std::string::npos)
      << text;
}

TEST(LossBound, MatchesExactClopperPearsonValues) {
  // k = 0: 1 - 0.05^(1/n).
  EXPECT_NEAR(LossUpperBound(0, 100), 1 - std::pow(0.05, 0.01), 1e-9);
  EXPECT_NEAR(LossUpperBound(0, 2995), 0.001, 2e-6);
  // Published one-sided 95% upper limits: k = 1, n = 100 -> 0.0466; k = 5, n = 1000 -> 0.01051.
  EXPECT_NEAR(LossUpperBound(1, 100), 0.0466, 5e-4);
  EXPECT_NEAR(LossUpperBound(5, 1000), 0.01051, 5e-5);
  EXPECT_EQ(LossUpperBound(0, 0), 1.0);
  auto needed = EventsNeeded(0, 300, 0.001);
  ASSERT_TRUE(needed);
  EXPECT_NEAR(static_cast<double>(*needed), 2995, 2);
  EXPECT_FALSE(EventsNeeded(5, 1000, 0.001)) << "a 0.5% loss rate never gets within 0.1%";
}

TEST(PayloadDiff, NamesAddedRemovedAndChangedFields) {
  auto d = DiffPayloads(R"({"a":1,"b":{"c":"x","d":[1,2]},"e":true})",
                        R"({"a":1,"b":{"c":"y","d":[1]},"f":null})");
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].field, "b.c");
  EXPECT_EQ(d[0].change, "changed");
  EXPECT_EQ(d[0].live, "\"x\"");
  EXPECT_EQ(d[1].field, "b.d[1]");
  EXPECT_EQ(d[1].change, "removed");
  EXPECT_EQ(d[2].field, "e");
  EXPECT_EQ(d[2].change, "removed");
  EXPECT_EQ(d[3].field, "f");
  EXPECT_EQ(d[3].change, "added");
  EXPECT_TRUE(DiffPayloads(R"({"a":[1,{"b":2}]})", R"({"a":[1,{"b":2}]})").empty());
  EXPECT_EQ(DiffPayloads("not json", "other").at(0).field, "(payload)");
}

}  // namespace
}  // namespace tandem::compare

namespace tandem::compare {
namespace {

// The BigQuery path, against the HTTPS stand-in (one per color): the same
// verdicts as SQLite, in a bounded number of jobs.query calls per window.
class CompareOnBigQuery : public ::testing::Test {
 protected:
  DatasetConfig ConfigFor(const testing::BigQueryStub& stub) {
    DatasetConfig d;
    d.kind = "bigquery";
    d.project = "test-project";
    d.dataset = "tandem_{color}";
    d.credentials_file = pki_.WriteServiceAccount(stub.token_uri());
    d.endpoint = stub.url();
    d.token_uri = stub.token_uri();
    return d;
  }

  Report Judge(const testing::TrafficSpec& spec, RunStats& stats) {
    auto traffic = testing::Generate(spec);
    {
      BigQueryDataset live(ConfigFor(green_), Color::kGreen, pki_.ca_cert),
          candidate(ConfigFor(blue_), Color::kBlue, pki_.ca_cert);
      EXPECT_TRUE(live.Bootstrap().ok());
      EXPECT_TRUE(candidate.Bootstrap().ok());
      testing::WriteArrived(traffic.live, live, INT64_MIN, INT64_MAX);
      testing::WriteArrived(traffic.candidate, candidate, INT64_MIN, INT64_MAX);
    }
    green_.set_page_size(1000);
    blue_.set_page_size(1000);
    Config config;
    Comparator c(config, [this](Color color) -> std::unique_ptr<Dataset> {
      return std::make_unique<BigQueryDataset>(ConfigFor(color == Color::kGreen ? green_ : blue_),
                                               color, pki_.ca_cert);
    });
    return c.Run(spec.start_ms + spec.windows * spec.window_ms + 15000, LiveState{Color::kGreen, 0},
                 &stats);
  }

  static testing::TrafficSpec Spec() {
    testing::TrafficSpec s;
    s.start_ms = 1767225600000;
    s.windows = 3;
    s.events_per_window = 1100;
    return s;
  }

  testing::TestPki pki_;
  testing::BigQueryStub green_{pki_}, blue_{pki_};
};

TEST_F(CompareOnBigQuery, IdenticalColorsAreReadyInFourQueriesPerWindow) {
  RunStats stats;
  Report r = Judge(Spec(), stats);
  EXPECT_EQ(r.verdict, Verdict::kReady) << "3,300 events, none lost: the bound is 0.09%";
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.windows.size(), 3u);
  for (const auto& w : r.windows) {
    EXPECT_EQ(w.live_count, 1100u);
    EXPECT_EQ(w.candidate_count, 1100u);
    EXPECT_EQ(w.missing_in_candidate, 0u);
    EXPECT_EQ(w.mismatched, 0u);
    EXPECT_TRUE(w.pass) << (w.reasons.empty() ? "" : w.reasons[0]);
  }
  EXPECT_EQ(stats.windows_judged, 3u);
  // One query per color for where the data starts, then two per color and window.
  EXPECT_EQ(green_.query_jobs() + blue_.query_jobs(), 2u + 4u * 3u);
  EXPECT_TRUE(green_.violations().empty()) << green_.violations().front();
}

TEST_F(CompareOnBigQuery, APayloadFieldLostIsFoundFromTheRecordedPayloads) {
  testing::TrafficSpec s = Spec();
  s.strip_vendor = "hooks";
  s.strip_event = "pageview";
  s.strip_field = "path";
  RunStats stats;
  Report r = Judge(s, stats);
  EXPECT_EQ(r.verdict, Verdict::kNotReady);
  bool named = false;
  for (const auto& reason : r.reasons)
    named |= reason.find("'hooks', event 'pageview'") != std::string::npos &&
             reason.find("properties.path removed") != std::string::npos;
  EXPECT_TRUE(named) << (r.reasons.empty() ? "no reasons" : r.reasons[0]);
  // Plus one payload query per color and window for the examples.
  EXPECT_EQ(green_.query_jobs() + blue_.query_jobs(), 2u + 6u * 3u);
  EXPECT_TRUE(blue_.violations().empty()) << blue_.violations().front();
}

}  // namespace
}  // namespace tandem::compare
