// The candidate path, after Envoy's shadow writer: a copy to the candidate's
// dispatcher that never delays or fails the live path. A copy is admitted
// (in-flight cap), sent on a capped pool, and its outcome counted; its answer
// goes nowhere.
//
// Unlike Envoy's, a copy the candidate could not take (connection refused or
// dropped, 503, breaker open) is parked and sent again until it lands or
// `retry_for` passes: a candidate dispatcher that restarts (a deploy, a crash)
// would otherwise miss every event of its downtime, and the verdict would blame
// the release for the harness's loss. Resending is safe: `raw` keeps one row per
// tandem_id. A copy that timed out is not resent: it may have been written, and
// resending doubles the load on a candidate that is already too slow.
//
// One per worker thread and color; no locks but the shared per-color counts.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>

#include "common/color.h"
#include "common/http_client.h"
#include "splitter/candidate_breaker.h"
#include "splitter/dispatcher_set.h"
#include "splitter/splitter_metrics.h"

namespace tandem::splitter {

// Per color, shared by every worker's mirror of that color.
struct CandidateCounts {
  std::atomic<int64_t> inflight{0};      // sent or parked, not yet ended: the shedding bound
  std::atomic<int64_t> parked{0};        // waiting to be sent again
  std::atomic<int64_t> parked_bytes{0};  // their size, within retry_bytes
};

struct MirrorSettings {
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds retry_for{30000};
  uint64_t retry_bytes = 64ull << 20;
};

class CandidateMirror {
 public:
  CandidateMirror(boost::asio::io_context& io, std::unique_ptr<DispatcherSet> dispatchers,
                  size_t max_resending, Color color, CandidateCounts& counts,
                  SplitterMetrics& metrics);

  // Whether the copy will be taken (then Send must follow). A copy beyond the
  // in-flight cap, or while every connection to the candidate and its waiting
  // line are taken, or that would join parked copies past retry_bytes, is shed
  // (counted outcome="shed") here and only here: the live copy is marked with
  // the decision (X-Tandem-Mirror) before it leaves. `body_bytes`: the copy's body.
  bool Admit(uint32_t max_inflight, size_t body_bytes);
  // Sends the admitted copy, or parks it while the breaker is open; its outcome
  // is counted when it ends.
  void Send(http::Request&& copy, const MirrorSettings& settings);

  const CandidateBreaker& breaker() const { return breaker_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Parked {
    http::Request req;
    Clock::time_point first_failed;
    int64_t bytes;
  };
  // One exchange; `first_failed` is set for a copy sent again.
  void Attempt(http::Request&& req, bool probe, Clock::time_point first_failed);
  void Park(http::Request&& req, Clock::time_point first_failed, Clock::time_point now);
  // Sends parked copies as far as the breaker and max_resending allow; ends the expired.
  void Pump();
  void ArmTimer();
  void End(Outcome o);

  std::unique_ptr<DispatcherSet> dispatchers_;
  size_t max_resending_;
  Color color_;
  CandidateCounts& counts_;
  SplitterMetrics& metrics_;
  CandidateBreaker breaker_;
  MirrorSettings settings_;  // as of the last Send
  std::deque<Parked> parked_;
  size_t resending_ = 0;
  boost::asio::steady_timer timer_;
  bool timer_armed_ = false;
};

}  // namespace tandem::splitter
