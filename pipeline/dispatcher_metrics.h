// The dispatcher's metrics, created once so hot paths only increment.
#pragma once

#include "common/metrics.h"

namespace tandem::pipeline {

struct DispatcherMetrics {
  explicit DispatcherMetrics(Metrics& m);

  prometheus::Counter& accepted;          // acknowledged (durable) events
  prometheus::Counter& refused;           // appends that failed (spool full or I/O error)
  prometheus::Counter& too_large;         // requests whose record the spool cannot hold (413)
  prometheus::Histogram& ack_latency;     // request received -> durable
  prometheus::Histogram& commit_seconds;  // one group commit: write + fdatasync
  prometheus::Histogram& commit_records;  // events per group commit
  prometheus::Counter& loaded;            // rows written to the dataset
  prometheus::Counter& load_failures;     // failed batches (retried)
  prometheus::Counter& forwarded_ok;
  prometheus::Counter& forward_retries;
  prometheus::Counter& forward_refused;       // trace refused for good: parked
  prometheus::Counter& parked_trace_refused;  // rejected rows with reason trace_refused
  prometheus::Counter& parked_dead_letter;    // rows in dead-letter.jsonl
  prometheus::Counter& skipped_loader;        // spool bytes with no valid event, passed over
  prometheus::Counter& skipped_forwarder;
  prometheus::Counter& damage_corrupt;  // found at start: corrupt bytes inside the tail
  prometheus::Counter& damage_behind;   // found at start: spool shorter than its checkpoints
  prometheus::Gauge& spool_bytes;
  prometheus::Gauge& spool_segments;
  prometheus::Gauge& loader_lag_bytes;
  prometheus::Gauge& forwarder_lag_bytes;
};

}  // namespace tandem::pipeline
