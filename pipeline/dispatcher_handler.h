// The dispatcher's HTTP front: POST /v1/events is acknowledged (202) only once
// the raw event is durable in the spool; health and metrics beside it.
#pragma once

#include <functional>

#include "common/http_server.h"
#include "common/io_workers.h"
#include "common/metrics.h"
#include "pipeline/dispatcher_metrics.h"
#include "pipeline/spool.h"

namespace tandem::pipeline {

class DispatcherHandler : public http::Handler {
 public:
  DispatcherHandler(IoWorkers& workers, Spool& spool, Metrics& metrics, DispatcherMetrics& dm,
                    std::function<void()> before_scrape);
  void Handle(http::Request&& req, const http::RequestInfo& info, http::Respond respond) override;

 private:
  IoWorkers& workers_;
  Spool& spool_;
  Metrics& metrics_;
  DispatcherMetrics& dm_;
  std::function<void()> before_scrape_;
};

}  // namespace tandem::pipeline
