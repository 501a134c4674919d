// The candidate path, after Envoy's shadow writer: a fire-and-forget copy to the
// candidate's dispatcher that never delays or fails the live path. A copy is
// admitted (breaker, in-flight cap), sent on a capped pool, and its outcome
// counted; its answer goes nowhere. One per worker thread and color; no locks
// but the shared in-flight count.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "common/color.h"
#include "common/http_client.h"
#include "splitter/candidate_breaker.h"
#include "splitter/splitter_metrics.h"

namespace tandem::splitter {

class CandidateMirror {
 public:
  // `inflight` is shared by every worker's mirror of this color: the shedding bound.
  CandidateMirror(std::shared_ptr<http::ClientPool> pool, Color color,
                  std::atomic<int64_t>& inflight, SplitterMetrics& metrics);

  // Whether a copy will be sent (then Send must follow). Counts the copies that
  // will not: breaker open as outcome="error", in-flight cap as outcome="shed".
  bool Admit(uint32_t max_inflight);
  // Sends the admitted copy; its outcome is counted when it ends.
  void Send(http::Request&& copy, std::chrono::milliseconds timeout);

  const CandidateBreaker& breaker() const { return breaker_; }

 private:
  std::shared_ptr<http::ClientPool> pool_;
  Color color_;
  std::atomic<int64_t>& inflight_;
  SplitterMetrics& metrics_;
  CandidateBreaker breaker_;
  bool next_is_probe_ = false;
};

}  // namespace tandem::splitter
