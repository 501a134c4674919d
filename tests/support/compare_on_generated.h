// The fixture of compare's tests on generated datasets: two SQLite datasets
// (green live, blue the candidate), rows written at once, one comparator run.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>

#include "compare/comparator.h"
#include "datasets/sqlite_dataset.h"
#include "tests/support/generated_datasets.h"
#include "tests/support/process.h"

namespace tandem::compare {

using testing::GeneratedTraffic;
using testing::TrafficSpec;

class CompareOnGenerated : public ::testing::Test {
 protected:
  CompareOnGenerated() {
    config_.compare.window_seconds = 60;
    config_.compare.settle_seconds = 15;
    config_.compare.max_drift_ratio = 0.001;
    config_.compare.min_events_per_window = 100;
    config_.compare.windows_required = 3;
    for (Color c : {Color::kBlue, Color::kGreen}) {
      auto d = std::make_unique<SqliteDataset>(Path(c));
      EXPECT_TRUE(d->Bootstrap().ok());
    }
  }

  std::string Path(Color c) const { return dir_.path() + "/" + ColorName(c) + ".db"; }

  DatasetOpener Opener() {
    return [this](Color c) -> std::unique_ptr<Dataset> {
      return std::make_unique<SqliteDataset>(Path(c));
    };
  }

  // Green live, blue the candidate; every row written at once.
  void Write(const GeneratedTraffic& t) {
    SqliteDataset live(Path(Color::kGreen)), candidate(Path(Color::kBlue));
    testing::WriteArrived(t.live, live, INT64_MIN, INT64_MAX);
    testing::WriteArrived(t.candidate, candidate, INT64_MIN, INT64_MAX);
  }

  Report Judge(int windows = 3, LiveState state = {Color::kGreen, 0}) {
    Comparator c(config_, Opener());
    return c.Run(testing::kStart + windows * testing::kMinute + 15000, state);
  }

  static TrafficSpec Spec() {
    TrafficSpec s;
    s.start_ms = testing::kStart;
    s.windows = 3;
    s.events_per_window = 2000;
    return s;
  }

  static bool Mentions(const Report& r, std::initializer_list<std::string> words) {
    return std::any_of(r.reasons.begin(), r.reasons.end(), [&](const std::string& reason) {
      return std::all_of(words.begin(), words.end(),
                         [&](const std::string& w) { return reason.find(w) != std::string::npos; });
    });
  }

  static std::string Reasons(const Report& r) {
    std::string out;
    for (const auto& x : r.reasons) out += "  " + x + "\n";
    for (const auto& x : r.errors) out += "  error: " + x + "\n";
    return out;
  }

  testing::TempDir dir_;
  Config config_;
};

}  // namespace tandem::compare
