// Trace's metrics (issue 7's list), created at start so the hot path only increments.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "pipeline/trace/scrubber.h"

namespace tandem::trace {

struct VendorMetrics {
  std::map<std::string, prometheus::Counter*, std::less<>> deliveries;  // by outcome
  prometheus::Histogram* latency;                                       // one vendor request
  prometheus::Counter* retries;                                         // requests sent again
  prometheus::Counter* requests_ok;
  prometheus::Counter* requests_failed;  // non-2xx answers and transport errors
};

class TraceMetrics {
 public:
  TraceMetrics(Metrics& m, const std::vector<std::string>& vendors);

  prometheus::Counter& events;              // events received
  prometheus::Counter& properties_dropped;  // not on the allowlist
  prometheus::Counter& redeliveries;        // events the forwarder may have sent before
  prometheus::Counter& duplicates_skipped;  // vendor deliveries already on record, not resent
  prometheus::Histogram& event_seconds;     // received -> rows written
  prometheus::Histogram& write_seconds;     // one dataset write (deliveries + rejected)
  prometheus::Counter& write_failures;
  prometheus::Counter& rows_refused;  // rows the dataset refused for good (logged)
  prometheus::Counter& sentry_sent;
  prometheus::Counter& sentry_dropped;  // queue full, rate limited or failed

  // One of the reasons created at start (invalid_json, invalid_schema, not_allowlisted).
  prometheus::Counter& Rejected(const std::string& reason);
  void Scrubbed(const ScrubCounts& counts);
  VendorMetrics& vendor(const std::string& name) { return vendors_.at(name); }

 private:
  prometheus::Family<prometheus::Counter>& rejected_;
  std::map<std::string, prometheus::Counter*> rejected_by_reason_;
  std::vector<prometheus::Counter*> scrubbed_;
  std::map<std::string, VendorMetrics> vendors_;
};

}  // namespace tandem::trace
