// Stops sending candidate copies to a dispatcher that refuses connections and
// probes it again with exponential backoff, so an absent candidate costs the
// live path no connect() per request. One per worker thread and color; no locks.
#pragma once

#include <algorithm>
#include <chrono>

namespace tandem::splitter {

class CandidateBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kThreshold = 5;  // consecutive connection failures that open it
  static constexpr std::chrono::milliseconds kMinBackoff{50};
  static constexpr std::chrono::milliseconds kMaxBackoff{2000};

  // Whether a copy may be sent now; when open, lets one probe through per backoff.
  bool Allow(Clock::time_point now) {
    if (failures_ < kThreshold) return true;
    if (probing_ || now < retry_at_) return false;
    probing_ = true;
    return true;
  }
  void Success() {
    failures_ = 0;
    probing_ = false;
    backoff_ = kMinBackoff;
  }
  // A connection-level failure (refused, reset); timeouts and 5xx are not counted.
  void Failure(Clock::time_point now) {
    probing_ = false;
    if (++failures_ < kThreshold) return;
    retry_at_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  }
  bool open() const { return failures_ >= kThreshold; }

 private:
  int failures_ = 0;
  bool probing_ = false;
  Clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_ = kMinBackoff;
};

}  // namespace tandem::splitter
