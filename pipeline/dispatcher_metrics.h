// The dispatcher's metrics, created once so hot paths only increment.
#pragma once

#include "common/metrics.h"

namespace tandem::pipeline {

struct DispatcherMetrics {
  explicit DispatcherMetrics(Metrics& m);

  prometheus::Counter& accepted;          // acknowledged (durable) events
  prometheus::Counter& refused;           // appends that failed (spool full or I/O error)
  prometheus::Histogram& ack_latency;     // request received -> durable
  prometheus::Histogram& commit_seconds;  // one group commit: write + fdatasync
  prometheus::Histogram& commit_records;  // events per group commit
  prometheus::Counter& loaded;            // rows written to the dataset
  prometheus::Counter& load_failures;     // failed batches (retried)
  prometheus::Counter& forwarded_ok;
  prometheus::Counter& forward_retries;
  prometheus::Counter& forward_dropped;  // trace answered 4xx: not retried
  prometheus::Gauge& spool_bytes;
  prometheus::Gauge& spool_segments;
  prometheus::Gauge& loader_lag_bytes;
  prometheus::Gauge& forwarder_lag_bytes;
};

}  // namespace tandem::pipeline
