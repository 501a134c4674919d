#include "pipeline/dispatcher_metrics.h"

namespace tandem::pipeline {

DispatcherMetrics::DispatcherMetrics(Metrics& m)
    : accepted(m.Counter("tandem_dispatcher_accepted_total",
                         "Events acknowledged after they were durable")
                   .Add({})),
      refused(m.Counter("tandem_dispatcher_refused_total",
                        "Events refused because the spool could not take them")
                  .Add({})),
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
      loaded(m.Counter("tandem_dispatcher_loaded_rows_total", "Raw rows written to the dataset")
                 .Add({})),
      load_failures(m.Counter("tandem_dispatcher_load_failures_total",
                              "Dataset batches that failed and were retried")
                        .Add({})),
      forwarded_ok(
          m.Counter("tandem_dispatcher_forwarded_total", "Events sent to trace, by outcome")
              .Add({{"outcome", "ok"}})),
      forward_retries(
          m.Counter("tandem_dispatcher_forwarded_total", "Events sent to trace, by outcome")
              .Add({{"outcome", "retry"}})),
      forward_dropped(
          m.Counter("tandem_dispatcher_forwarded_total", "Events sent to trace, by outcome")
              .Add({{"outcome", "dropped"}})),
      spool_bytes(m.Gauge("tandem_dispatcher_spool_bytes", "Bytes kept in the spool").Add({})),
      spool_segments(
          m.Gauge("tandem_dispatcher_spool_segments", "Segment files in the spool").Add({})),
      loader_lag_bytes(
          m.Gauge("tandem_dispatcher_consumer_lag_bytes", "Spool bytes a consumer has not finished")
              .Add({{"consumer", "loader"}})),
      forwarder_lag_bytes(
          m.Gauge("tandem_dispatcher_consumer_lag_bytes", "Spool bytes a consumer has not finished")
              .Add({{"consumer", "forwarder"}})) {}

}  // namespace tandem::pipeline
