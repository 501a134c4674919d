#include "pipeline/trace/trace_metrics.h"

namespace tandem::trace {

TraceMetrics::TraceMetrics(Metrics& m, const std::vector<std::string>& vendors)
    : events(m.Counter("tandem_trace_events_total", "Events received from the dispatcher").Add({})),
      properties_dropped(m.Counter("tandem_trace_properties_dropped_total",
                                   "Properties dropped: not on the allowlist")
                             .Add({})),
      redeliveries(m.Counter("tandem_trace_redeliveries_total",
                             "Events the forwarder marked as possibly seen before")
                       .Add({})),
      duplicates_skipped(m.Counter("tandem_trace_duplicates_skipped_total",
                                   "Vendor deliveries already recorded, not sent again")
                             .Add({})),
      event_seconds(m.Histogram("tandem_trace_event_seconds",
                                "From an event's arrival to its rows being written")
                        .Add({}, Metrics::LatencyBuckets())),
      write_seconds(m.Histogram("tandem_trace_dataset_write_seconds",
                                "One dataset write of deliveries and rejected rows")
                        .Add({}, Metrics::LatencyBuckets())),
      write_failures(
          m.Counter(
               "tandem_trace_dataset_write_failures_total",
               "Dataset write attempts that failed (after the last, the events are answered 503)")
              .Add({})),
      rows_refused(m.Counter("tandem_trace_dataset_rows_refused_total",
                             "Rows the dataset refused for good (logged)")
                       .Add({})),
      sentry_sent(m.Counter("tandem_trace_sentry_reports_total", "Sentry reports by outcome")
                      .Add({{"outcome", "sent"}})),
      sentry_dropped(m.Counter("tandem_trace_sentry_reports_total", "Sentry reports by outcome")
                         .Add({{"outcome", "dropped"}})),
      rejected_(m.Counter("tandem_trace_rejected_total", "Events rejected, by reason")) {
  for (const char* r : {"invalid_json", "invalid_schema", "not_allowlisted"}) Rejected(r);
  auto& scrubbed = m.Counter("tandem_trace_scrubbed_values_total", "Values scrubbed, by rule");
  for (size_t i = 0; i < static_cast<size_t>(ScrubRule::kCount); ++i) {
    scrubbed_.push_back(
        &scrubbed.Add({{"rule", std::string(ScrubRuleName(static_cast<ScrubRule>(i)))}}));
  }
  auto& deliveries = m.Counter("tandem_trace_deliveries_total", "Deliveries by vendor and outcome");
  auto& latency = m.Histogram("tandem_trace_vendor_latency_seconds", "One vendor request");
  auto& retries = m.Counter("tandem_trace_vendor_retries_total", "Vendor requests sent again");
  auto& requests = m.Counter("tandem_trace_vendor_requests_total", "Vendor requests by result");
  for (const auto& v : vendors) {
    VendorMetrics& vm = vendors_[v];
    for (const char* o : {"delivered", "failed", "rejected", "skipped"}) {
      vm.deliveries[o] = &deliveries.Add({{"vendor", v}, {"outcome", o}});
    }
    vm.latency = &latency.Add({{"vendor", v}}, Metrics::LatencyBuckets());
    vm.retries = &retries.Add({{"vendor", v}});
    vm.requests_ok = &requests.Add({{"vendor", v}, {"result", "ok"}});
    vm.requests_failed = &requests.Add({{"vendor", v}, {"result", "error"}});
  }
}

prometheus::Counter& TraceMetrics::Rejected(const std::string& reason) {
  auto it = rejected_by_reason_.find(reason);
  if (it != rejected_by_reason_.end()) return *it->second;
  prometheus::Counter* c = &rejected_.Add({{"reason", reason}});  // only from the constructor
  rejected_by_reason_[reason] = c;
  return *c;
}

void TraceMetrics::Scrubbed(const ScrubCounts& counts) {
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i]) scrubbed_[i]->Increment(counts[i]);
  }
}

}  // namespace tandem::trace
