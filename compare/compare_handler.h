// compare's HTTP front: GET /v1/report (the verdict, JSON), GET / (the report
// page), /metrics, /healthz, and /readyz (200 once a first report exists).
#pragma once

#include "common/http_server.h"
#include "common/metrics.h"
#include "compare/published_report.h"

namespace tandem::compare {

class CompareHandler : public http::Handler {
 public:
  CompareHandler(const ReportBoard& board, Metrics& metrics) : board_(board), metrics_(metrics) {}
  void Handle(http::Request&& req, const http::RequestInfo& info, http::Respond respond) override;

 private:
  const ReportBoard& board_;
  Metrics& metrics_;
};

}  // namespace tandem::compare
