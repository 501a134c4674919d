// Stops sending candidate copies to a dispatcher that refuses connections and
// probes it again with exponential backoff, so an absent candidate costs the
// live path no connect() per request. One per worker thread and color; no locks.
//
// Every copy Allow() lets through reports its result exactly once. A probe always
// ends: answered closes the breaker; refused, timed out or never sent re-arms
// it, so a candidate that comes back slowly is probed again until it answers.
#pragma once

#include <algorithm>
#include <chrono>

namespace tandem::splitter {

class CandidateBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kThreshold = 5;  // consecutive refused connections that open it
  static constexpr std::chrono::milliseconds kMinBackoff{50};
  static constexpr std::chrono::milliseconds kMaxBackoff{2000};

  enum class Result {
    kAnswered,  // any HTTP answer: the candidate is there
    kRefused,   // connection refused or reset
    kTimedOut,  // no answer in time
    kNotSent,   // shed before it left (connection cap)
  };

  // Whether a copy may be sent now; when open, lets one probe through per
  // backoff period and sets `probe`.
  bool Allow(Clock::time_point now, bool& probe) {
    probe = false;
    if (failures_ < kThreshold) return true;
    if (probing_ || now < retry_at_) return false;
    probing_ = probe = true;
    return true;
  }

  void Record(Result r, bool probe, Clock::time_point now) {
    if (probe) probing_ = false;
    switch (r) {
      case Result::kAnswered:
        failures_ = 0;
        backoff_ = kMinBackoff;
        return;
      case Result::kRefused:
        if (++failures_ >= kThreshold) ReArm(now);
        return;
      case Result::kTimedOut:
        // Reachable but slow (starting up, or overloaded): not a refusal, but a
        // probe that timed out is tried again later rather than forgotten.
        if (probe) ReArm(now);
        return;
      case Result::kNotSent:
        return;  // a probe that never left: the next copy may probe
    }
  }

  bool open() const { return failures_ >= kThreshold; }

 private:
  void ReArm(Clock::time_point now) {
    retry_at_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  }

  int failures_ = 0;
  bool probing_ = false;
  Clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_ = kMinBackoff;
};

}  // namespace tandem::splitter
