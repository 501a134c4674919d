#include "pipeline/dispatcher_metrics.h"

namespace tandem::pipeline {
namespace {

prometheus::Counter& Count(Metrics& m, const char* name, const char* help,
                           const prometheus::Labels& labels = {}) {
  return m.Counter(name, help).Add(labels);
}

constexpr const char* kForwarded = "Events sent to trace, by outcome";
constexpr const char* kParked = "Events set aside so the ones behind them flow, by reason";
constexpr const char* kSkipped =
    "Spool bytes a consumer passed over because they hold no valid event";
constexpr const char* kDamage = "Spool damage found when the dispatcher started, by kind";
constexpr const char* kLag = "Spool bytes a consumer has not finished";

}  // namespace

DispatcherMetrics::DispatcherMetrics(Metrics& m)
    : accepted(Count(m, "tandem_dispatcher_accepted_total",
                     "Events acknowledged after they were durable")),
      refused(
          Count(m, "tandem_dispatcher_refused_total",
                "Events refused because the spool could not take them (full, or a write error)")),
      too_large(Count(m, "tandem_dispatcher_too_large_total",
                      "Events refused because the spool cannot hold a record that large")),
      ack_latency(m.Histogram("tandem_dispatcher_ack_latency_seconds",
                              "From request to durable acknowledgement")
                      .Add({}, Metrics::LatencyBuckets())),
      commit_seconds(m.Histogram("tandem_dispatcher_spool_commit_seconds",
                                 "One group commit: write and fdatasync")
                         .Add({}, Metrics::LatencyBuckets())),
      commit_records(m.Histogram("tandem_dispatcher_spool_commit_records",
                                 "Events made durable by one group commit")
                         .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 5, 10, 20, 50, 100,
                                                                          200, 500, 1000})),
      loaded(Count(m, "tandem_dispatcher_loaded_rows_total", "Raw rows written to the dataset")),
      load_failures(Count(m, "tandem_dispatcher_load_failures_total",
                          "Dataset batches that failed and were retried")),
      forwarded_ok(Count(m, "tandem_dispatcher_forwarded_total", kForwarded, {{"outcome", "ok"}})),
      forward_retries(
          Count(m, "tandem_dispatcher_forwarded_total", kForwarded, {{"outcome", "retry"}})),
      forward_refused(
          Count(m, "tandem_dispatcher_forwarded_total", kForwarded, {{"outcome", "refused"}})),
      parked_trace_refused(
          Count(m, "tandem_dispatcher_parked_total", kParked, {{"reason", "trace_refused"}})),
      parked_dead_letter(
          Count(m, "tandem_dispatcher_parked_total", kParked, {{"reason", "dead_letter"}})),
      skipped_loader(Count(m, "tandem_dispatcher_spool_skipped_bytes_total", kSkipped,
                           {{"consumer", "loader"}})),
      skipped_forwarder(Count(m, "tandem_dispatcher_spool_skipped_bytes_total", kSkipped,
                              {{"consumer", "forwarder"}})),
      damage_corrupt(
          Count(m, "tandem_dispatcher_spool_damage_total", kDamage, {{"kind", "corrupt"}})),
      damage_behind(Count(m, "tandem_dispatcher_spool_damage_total", kDamage,
                          {{"kind", "behind_checkpoints"}})),
      spool_bytes(
          m.Gauge("tandem_dispatcher_spool_bytes",
                  "Spool bytes the consumers have not both passed (what spool_max_bytes bounds)")
              .Add({})),
      spool_segments(
          m.Gauge("tandem_dispatcher_spool_segments", "Segment files in the spool").Add({})),
      loader_lag_bytes(
          m.Gauge("tandem_dispatcher_consumer_lag_bytes", kLag).Add({{"consumer", "loader"}})),
      forwarder_lag_bytes(
          m.Gauge("tandem_dispatcher_consumer_lag_bytes", kLag).Add({{"consumer", "forwarder"}})) {}

}  // namespace tandem::pipeline
