// The incremental engine behind compare: each window is read and reconciled
// when it has settled, and kept (bounded by history_windows) until the live
// color changes; every Run() then only adds the windows that settled since. A
// window with ids on one side only is read twice more (kRereadAfter), so rows
// that came later than settle_seconds do not stay losses for the whole history.
// Not thread-safe: one judge thread calls Run().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "common/color.h"
#include "common/config.h"
#include "compare/report.h"
#include "compare/window_reader.h"
#include "datasets/dataset.h"

namespace tandem::compare {

// Which color is live, and since when (the splitter's admin state).
struct LiveState {
  Color live = Color::kGreen;
  int64_t changed_at_ms = 0;
  bool operator==(const LiveState&) const = default;
};

// Opens a color's dataset; throws (with a message for people) when it cannot.
using DatasetOpener = std::function<std::unique_ptr<Dataset>(Color)>;

struct RunStats {
  uint64_t windows_judged = 0;  // read and reconciled by this Run
  uint64_t queries_failed = 0;
};

class Comparator {
 public:
  Comparator(const Config& config, DatasetOpener open);
  ~Comparator();

  // The report as of now_ms. `state` nullopt: the live color is unknown (the
  // admin API cannot be read, `why`), which is reported and never `ready`.
  Report Run(int64_t now_ms, const std::optional<LiveState>& state, RunStats* stats = nullptr,
             const std::string& why = "");

 private:
  Dataset* Open(Color c, std::vector<std::string>& errors);
  bool JudgeWindow(int64_t start_ms, Color live, std::vector<std::string>& errors);

  CompareConfig config_;
  DatasetOpener open_;
  std::unique_ptr<Dataset> datasets_[2];
  std::unique_ptr<ColorWindow[]> windows_ = std::make_unique<ColorWindow[]>(2);  // live, candidate
  std::optional<LiveState> state_;
  std::map<int64_t, WindowReport> judged_;  // by start, for state_
  struct Reads {
    int count = 0;
    int64_t last_ms = 0;  // when it was last read (Run's now_ms)
  };
  std::map<int64_t, Reads> reads_;        // by start, for judged_
  std::optional<int64_t> first_data_ms_;  // where the data starts, for state_
};

}  // namespace tandem::compare
