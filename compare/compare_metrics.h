// compare's /metrics (SPEC sections 7 and 9): the latest judged window's counts
// and drift, the verdict, the evidence, and compare's own health. Event labels
// are the allowlisted names plus "(other)" and "(invalid)": names come from
// clients, and a label per name would let them grow the series without bound.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/metrics.h"
#include "compare/comparator.h"
#include "compare/report.h"

namespace tandem::compare {

class CompareMetrics {
 public:
  CompareMetrics(Metrics& metrics, std::set<std::string> events, std::vector<std::string> vendors);
  void Record(const Report& report, const RunStats& stats, double run_seconds);
  // The settings the verdict is judged under, so alert rules follow the config
  // (drift beyond max_drift_ratio, no window judged for a few window lengths).
  void SetSettings(const CompareConfig& config);

 private:
  std::string Label(const std::string& event) const;

  std::set<std::string> events_;  // allowlisted names
  std::vector<std::string> vendors_;
  prometheus::Family<prometheus::Gauge>& events_gauge_;
  prometheus::Family<prometheus::Gauge>& drift_;
  prometheus::Family<prometheus::Gauge>& mirror_;
  prometheus::Family<prometheus::Gauge>& missing_;
  prometheus::Gauge& mismatched_;
  prometheus::Gauge& ready_;
  prometheus::Family<prometheus::Gauge>& verdict_;
  prometheus::Gauge& bound_;
  prometheus::Gauge& evidence_events_;
  prometheus::Family<prometheus::Gauge>& payload_mismatched_;
  prometheus::Family<prometheus::Gauge>& vendor_deliveries_;
  prometheus::Family<prometheus::Gauge>& vendor_one_sided_;
  prometheus::Gauge& judged_window_end_;
  prometheus::Gauge& last_run_;
  prometheus::Counter& windows_judged_;
  prometheus::Counter& errors_;
  prometheus::Histogram& run_seconds_;
  prometheus::Gauge& max_drift_ratio_;
  prometheus::Gauge& window_seconds_;
  prometheus::Gauge& settle_seconds_;
};

}  // namespace tandem::compare
