// Calibration: the verdict's false-alarm and detection rates on generated
// traffic (SPEC section 7; docs/compare.md, "Calibration", prints the figures
// these tests print):
// - identical colors, with late rows inside settle_seconds, at mirror_fraction
//   1.0 and 0.3: never not_ready at any step, ready at the end;
// - a rare event (1% of traffic) losing 0.5%, and a common one losing 0.2%:
//   not_ready naming the event, every run;
// - 0.1% of all events lost over 200,000: not_ready (at the limit, more events
//   cannot help);
// - the events the report says are still needed are enough for ready.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "compare/comparator.h"
#include "datasets/sqlite_dataset.h"
#include "tests/support/generated_datasets.h"
#include "tests/support/process.h"

namespace tandem::compare {
namespace {

using testing::kMinute;
using testing::kStart;
using testing::TrafficSpec;

// The calibration's figures need 20 runs; the sanitizer pass, where one run is
// ~25x slower, sets TANDEM_CALIBRATION_RUNS to check the same code on fewer.
int Runs(int full = 20) {
  const char* v = std::getenv("TANDEM_CALIBRATION_RUNS");
  return v && std::atoi(v) > 0 ? std::min(full, std::atoi(v)) : full;
}

// Both colors' SQLite datasets in a temporary folder, and a comparator on them
// (green live, never swapped).
struct Bench {
  testing::TempDir dir;
  SqliteDataset live{dir.path() + "/green.db"}, candidate{dir.path() + "/blue.db"};
  Comparator compare;

  explicit Bench(const Config& config)
      : compare(config, [this](Color color) -> std::unique_ptr<Dataset> {
          return std::make_unique<SqliteDataset>(dir.path() + "/" + ColorName(color) + ".db");
        }) {
    std::vector<std::vector<std::string>> ignored;
    for (SqliteDataset* d : {&live, &candidate}) {
      EXPECT_TRUE(d->Bootstrap().ok());
      // A test's files need no power-loss safety.
      EXPECT_TRUE(d->Query("PRAGMA synchronous=OFF", ignored).ok());
    }
  }
  void Write(const testing::GeneratedTraffic& t, int64_t after_ms, int64_t until_ms) {
    testing::WriteArrived(t.live, live, after_ms, until_ms);
    testing::WriteArrived(t.candidate, candidate, after_ms, until_ms);
  }
  Report Run(int64_t now_ms) { return compare.Run(now_ms, LiveState{Color::kGreen, 0}); }
};

Config DefaultConfig() {
  Config config;  // the defaults: max_drift_ratio 0.001, min 100 per window, 3 windows
  config.compare.settle_seconds = 15;
  return config;
}

bool Names(const Report& r, const std::string& event) {
  for (const auto& reason : r.reasons)
    if (reason.find("event '" + event + "'") != std::string::npos) return true;
  return false;
}

struct Stepped {
  int not_ready_ticks = 0;  // runs of the comparator that said not_ready
  Report final;
};

// Time moves in 5 s steps over the traffic; rows land in each dataset as they
// arrive (late by up to 14 s); compare runs at every step.
Stepped RunStepped(const TrafficSpec& spec) {
  Bench b(DefaultConfig());
  auto traffic = testing::Generate(spec);
  Stepped out;
  int64_t written = INT64_MIN;
  const int64_t end = spec.start_ms + spec.windows * spec.window_ms + 15000;
  for (int64_t now = spec.start_ms; now <= end; now += 5000) {
    b.Write(traffic, written, now);
    written = now;
    out.final = b.Run(now);
    out.not_ready_ticks += out.final.verdict == Verdict::kNotReady;
  }
  return out;
}

// Every row written at once; compare runs once every window has settled.
Report RunAtEnd(const TrafficSpec& spec, testing::GeneratedTraffic* traffic_out = nullptr) {
  Bench b(DefaultConfig());
  auto traffic = testing::Generate(spec);
  b.Write(traffic, INT64_MIN, INT64_MAX);
  if (traffic_out) *traffic_out = traffic;
  return b.Run(spec.start_ms + spec.windows * spec.window_ms + 15000);
}

TrafficSpec Steady(uint64_t seed) {
  TrafficSpec spec;
  spec.start_ms = kStart;
  spec.windows = 4;
  spec.events_per_window = 4000;
  spec.seed = seed;
  spec.late_mean_ms = 1500;
  spec.late_max_ms = 14000;
  return spec;
}

TEST(CompareCalibration, IdenticalColorsNeverFailAtFullOrSampledMirroring) {
  for (double fraction : {1.0, 0.3}) {
    int not_ready = 0, ready = 0;
    double worst_bound = 0;
    const int runs = Runs();
    for (int i = 0; i < runs; ++i) {
      TrafficSpec spec = Steady(1000 + i);
      spec.mirror_fraction = fraction;
      Stepped s = RunStepped(spec);
      not_ready += s.not_ready_ticks > 0;
      ready += s.final.verdict == Verdict::kReady;
      worst_bound = std::max(worst_bound, s.final.evidence.upper_bound);
      EXPECT_EQ(s.not_ready_ticks, 0) << "mirror_fraction " << fraction << ", run " << i;
      EXPECT_EQ(s.final.verdict, Verdict::kReady)
          << "mirror_fraction " << fraction << ", run " << i << ": "
          << (s.final.reasons.empty() ? "" : s.final.reasons[0]);
      if (fraction < 1) {
        uint64_t sampled_out = 0;
        for (const auto& w : s.final.windows) sampled_out += w.sampled_out;
        EXPECT_GT(sampled_out, 0u) << "the sample left devices out";
      }
    }
    std::printf(
        "calibration: identical colors at mirror_fraction %.1f, %d runs of 16,000 events with "
        "late rows: not_ready in %d (at any step), ready at the end in %d, worst final 95%% "
        "bound %.4f%%\n",
        fraction, runs, not_ready, ready, worst_bound * 100);
  }
}

// The rare event is 1% of 10,000 events a window, about 100 a window, over 40
// windows: about 4,000 of it, 20 of them lost.
TEST(CompareCalibration, ARareEventLosingHalfAPercentIsNotReadyNamingIt) {
  int not_ready = 0, by_test = 0;
  uint64_t min_lost = UINT64_MAX, max_lost = 0;
  const int runs = Runs();
  for (int i = 0; i < runs; ++i) {
    TrafficSpec spec;
    spec.start_ms = kStart;
    spec.windows = 40;
    spec.events_per_window = 10000;
    spec.event_weights = {60, 19, 1, 20};  // signup: 1%
    spec.vendors = {};
    spec.seed = 3000 + i;
    spec.drop_event = "signup";
    spec.drop_fraction = 0.005;
    testing::GeneratedTraffic traffic;
    Report r = RunAtEnd(spec, &traffic);
    not_ready += r.verdict == Verdict::kNotReady && Names(r, "signup");
    min_lost = std::min(min_lost, traffic.dropped);
    max_lost = std::max(max_lost, traffic.dropped);
    for (const auto& e : r.evidence.by_event) by_test += e.event == "signup" && e.above_limit;
    EXPECT_EQ(r.verdict, Verdict::kNotReady) << "run " << i << ": " << r.evidence.sentence;
    EXPECT_TRUE(Names(r, "signup")) << "run " << i;
    uint64_t missing = 0;
    for (const auto& w : r.windows) missing += w.missing_in_candidate;
    EXPECT_EQ(missing, traffic.dropped) << "every lost event is found";
  }
  std::printf(
      "calibration: 'signup' (1%% of traffic) losing 0.5%%, %d runs of 400,000 events: "
      "not_ready naming it in %d (%llu-%llu lost per run); its own binomial test fired in %d\n",
      runs, not_ready, static_cast<unsigned long long>(min_lost),
      static_cast<unsigned long long>(max_lost), by_test);
}

TEST(CompareCalibration, ACommonEventLosingAFifthOfAPercentIsNotReadyNamingIt) {
  int not_ready = 0;
  const int runs = Runs();
  for (int i = 0; i < runs; ++i) {
    TrafficSpec spec;
    spec.start_ms = kStart;
    spec.windows = 4;
    spec.events_per_window = 10000;
    spec.vendors = {};
    spec.seed = 4000 + i;
    spec.drop_event = "pageview";  // 60% of traffic
    spec.drop_fraction = 0.002;
    Report r = RunAtEnd(spec);
    not_ready += r.verdict == Verdict::kNotReady && Names(r, "pageview");
    EXPECT_EQ(r.verdict, Verdict::kNotReady) << "run " << i;
    EXPECT_TRUE(Names(r, "pageview")) << "run " << i;
  }
  std::printf(
      "calibration: 'pageview' (60%% of traffic) losing 0.2%%, %d runs of 40,000 events: "
      "not_ready naming it in %d\n",
      runs, not_ready);
}

// Exactly the limit: every 1,000th event sent is lost. Windows pass (0.1% is
// not above 0.1%), the 95% bound can never get within the limit, and the
// answer is not_ready, not insufficient_data.
TEST(CompareCalibration, LosingTheLimitOverTwoHundredThousandEventsIsNotReady) {
  int not_ready = 0;
  const int runs = Runs(5);
  for (int i = 0; i < runs; ++i) {
    TrafficSpec spec;
    spec.start_ms = kStart;
    spec.windows = 20;
    spec.events_per_window = 10000;
    spec.vendors = {};
    spec.seed = 5000 + i;
    spec.drop_every = 1000;
    Report r = RunAtEnd(spec);
    not_ready += r.verdict == Verdict::kNotReady;
    EXPECT_EQ(r.verdict, Verdict::kNotReady) << "run " << i << ": " << r.evidence.sentence;
    EXPECT_GE(r.evidence.lost * 1000, r.evidence.sent_events) << "run " << i;
  }
  std::printf(
      "calibration: 0.1%% of every event lost, %d runs of 200,000 events: not_ready in %d\n", runs,
      not_ready);
}

// Windows of a few hundred events sent: the report says how many more it needs;
// once they have come without a loss, the verdict is ready.
TEST(CompareCalibration, TheEventsStillNeededAreEnoughForReady) {
  for (double fraction : {1.0, 0.3}) {
    TrafficSpec spec;
    spec.start_ms = kStart;
    spec.windows = 12;
    spec.events_per_window = fraction < 1 ? 2000 : 700;
    spec.vendors = {};
    spec.seed = 6000;
    spec.mirror_fraction = fraction;
    Bench b(DefaultConfig());
    auto traffic = testing::Generate(spec);
    b.Write(traffic, INT64_MIN, INT64_MAX);
    std::optional<uint64_t> needed;  // the first count the report asked for
    bool ready = false;
    for (int w = 3; w <= spec.windows && !ready; ++w) {
      Report r = b.Run(spec.start_ms + w * spec.window_ms + 15000);
      ASSERT_NE(r.verdict, Verdict::kNotReady) << r.reasons[0];
      if (r.verdict == Verdict::kInsufficientData) {
        ASSERT_TRUE(r.evidence.events_needed.has_value()) << r.evidence.needed;
        if (!needed) {
          needed = *r.evidence.events_needed;
          std::printf("calibration: at mirror_fraction %.1f after %d windows: %s\n", fraction, w,
                      r.evidence.needed.c_str());
        }
        EXPECT_LT(r.evidence.sent_events, *needed) << "as many events as it asked for";
      } else {
        ready = true;
        ASSERT_TRUE(needed.has_value());
        EXPECT_GE(r.evidence.sent_events, *needed);
        std::printf("calibration: ready after %d windows with %llu events sent (it asked %llu)\n",
                    w, static_cast<unsigned long long>(r.evidence.sent_events),
                    static_cast<unsigned long long>(*needed));
      }
    }
    EXPECT_TRUE(ready) << "mirror_fraction " << fraction;
  }
}

}  // namespace
}  // namespace tandem::compare
