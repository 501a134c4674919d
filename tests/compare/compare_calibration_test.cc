// Calibration: the verdict's false-alarm and detection rates on generated
// traffic. 20 runs of identical colors with late rows (inside settle_seconds)
// never give not_ready; 20 runs with 0.5% of one event dropped from the
// candidate give not_ready every time. The figures printed here are the ones in
// docs/compare.md.
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
// The calibration's figures need 20 runs; the sanitizer pass, where one run is
// ~25x slower, sets TANDEM_CALIBRATION_RUNS to check the same code on fewer.
int Runs() {
  const char* v = std::getenv("TANDEM_CALIBRATION_RUNS");
  return v && std::atoi(v) > 0 ? std::atoi(v) : 20;
}

struct Outcome {
  int not_ready_ticks = 0;  // runs of the comparator that said not_ready
  Verdict final = Verdict::kInsufficientData;
  double bound = 1;
  uint64_t dropped = 0, missing = 0;
};

// One run: time moves in 5 s steps over 4 windows of traffic; rows land in each
// dataset as they arrive (late by up to 14 s); compare runs at every step.
Outcome RunOnce(uint64_t seed, const std::string& drop_event) {
  testing::TempDir dir;
  Config config;
  config.compare.settle_seconds = 15;
  testing::TrafficSpec spec;
  spec.start_ms = kStart;
  spec.windows = 4;
  spec.events_per_window = 4000;
  spec.seed = seed;
  spec.late_mean_ms = 1500;
  spec.late_max_ms = 14000;
  spec.drop_event = drop_event;
  spec.drop_fraction = drop_event.empty() ? 0 : 0.005;
  auto traffic = testing::Generate(spec);
  SqliteDataset live(dir.path() + "/green.db"), candidate(dir.path() + "/blue.db");
  EXPECT_TRUE(live.Bootstrap().ok());
  EXPECT_TRUE(candidate.Bootstrap().ok());
  std::vector<std::vector<std::string>> ignored;
  for (SqliteDataset* d : {&live, &candidate})  // a test's files need no power-loss safety
    EXPECT_TRUE(d->Query("PRAGMA synchronous=OFF", ignored).ok());
  Comparator c(config, [&](Color color) -> std::unique_ptr<Dataset> {
    return std::make_unique<SqliteDataset>(dir.path() + "/" + ColorName(color) + ".db");
  });
  Outcome out;
  out.dropped = traffic.dropped;
  Report r;
  int64_t written = INT64_MIN;
  for (int64_t now = kStart; now <= kStart + 4 * kMinute + 15000; now += 5000) {
    testing::WriteArrived(traffic.live, live, written, now);
    testing::WriteArrived(traffic.candidate, candidate, written, now);
    written = now;
    r = c.Run(now, LiveState{Color::kGreen, 0});
    out.not_ready_ticks += r.verdict == Verdict::kNotReady;
  }
  out.final = r.verdict;
  out.bound = r.evidence.upper_bound;
  for (const auto& w : r.windows) out.missing += w.missing_in_candidate;
  return out;
}

TEST(CompareCalibration, IdenticalColorsNeverFailAndAHalfPercentDropAlwaysDoes) {
  int identical_not_ready = 0, identical_ready = 0, dropped_not_ready = 0;
  double worst_bound = 0;
  uint64_t min_dropped = UINT64_MAX, max_dropped = 0;
  const int runs = Runs();
  for (int i = 0; i < runs; ++i) {
    Outcome same = RunOnce(1000 + i, "");
    identical_not_ready += same.not_ready_ticks > 0;
    identical_ready += same.final == Verdict::kReady;
    worst_bound = std::max(worst_bound, same.bound);
    EXPECT_EQ(same.not_ready_ticks, 0) << "identical run " << i;
    Outcome drop = RunOnce(2000 + i, "purchase product");
    dropped_not_ready += drop.final == Verdict::kNotReady;
    min_dropped = std::min(min_dropped, drop.dropped);
    max_dropped = std::max(max_dropped, drop.dropped);
    EXPECT_EQ(drop.final, Verdict::kNotReady) << "drop run " << i;
    EXPECT_EQ(drop.missing, drop.dropped) << "every dropped event is found";
  }
  std::printf(
      "calibration: identical colors, %d runs: not_ready in %d (at any step), ready at the end "
      "in %d, worst final 95%% bound %.4f%%\n"
      "calibration: 0.5%% of 'purchase product' dropped, %d runs: not_ready in %d "
      "(%llu-%llu events dropped per run of 16,000)\n",
      runs, identical_not_ready, identical_ready, worst_bound * 100, runs, dropped_not_ready,
      static_cast<unsigned long long>(min_dropped), static_cast<unsigned long long>(max_dropped));
}

}  // namespace
}  // namespace tandem::compare
