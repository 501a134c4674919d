// Trace's HTTP front: POST /v1/event-batch from the color's forwarder (and
// /v1/events, one event, from `tandem backfill`), each event answered 200 once
// its rows are in the dataset (503 when they could not be written, so the
// forwarder sends it again); /healthz, /readyz and /metrics beside it.
#pragma once

#include <functional>

#include "common/http_server.h"
#include "common/io_workers.h"
#include "common/metrics.h"
#include "pipeline/trace/event_processor.h"

namespace tandem::trace {

class TraceHandler : public http::Handler {
 public:
  TraceHandler(IoWorkers& workers, EventProcessor& processor, Metrics& metrics);
  void Handle(http::Request&& req, const http::RequestInfo& info, http::Respond respond) override;

 private:
  void HandleBatch(http::Request&& req, const http::RequestInfo& info, http::Respond respond);

  IoWorkers& workers_;
  EventProcessor& processor_;
  Metrics& metrics_;
};

}  // namespace tandem::trace
