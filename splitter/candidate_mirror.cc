#include "splitter/candidate_mirror.h"

#include <boost/beast/core/error.hpp>

namespace tandem::splitter {
namespace {
using Clock = std::chrono::steady_clock;

CandidateBreaker::Result BreakerResult(const boost::system::error_code& ec) {
  if (!ec) return CandidateBreaker::Result::kAnswered;
  if (ec == boost::beast::error::timeout) return CandidateBreaker::Result::kTimedOut;
  if (ec == http::kPoolFull) return CandidateBreaker::Result::kNotSent;
  return CandidateBreaker::Result::kRefused;
}

}  // namespace

CandidateMirror::CandidateMirror(std::shared_ptr<http::ClientPool> pool, Color color,
                                 std::atomic<int64_t>& inflight, SplitterMetrics& metrics)
    : pool_(std::move(pool)), color_(color), inflight_(inflight), metrics_(metrics) {}

bool CandidateMirror::Admit(uint32_t max_inflight) {
  if (!breaker_.Allow(Clock::now(), next_is_probe_)) {
    metrics_.Forwarded(color_, Role::kCandidate, Outcome::kError);
    return false;
  }
  if (inflight_.fetch_add(1, std::memory_order_relaxed) >= static_cast<int64_t>(max_inflight)) {
    inflight_.fetch_sub(1, std::memory_order_relaxed);
    breaker_.Record(CandidateBreaker::Result::kNotSent, next_is_probe_, Clock::now());
    metrics_.Forwarded(color_, Role::kCandidate, Outcome::kShed);
    return false;
  }
  return true;
}

void CandidateMirror::Send(http::Request&& copy, std::chrono::milliseconds timeout) {
  auto start = Clock::now();
  bool probe = next_is_probe_;
  next_is_probe_ = false;
  // The pool outlives every callback it runs, and so does this mirror (both are
  // owned by the ingest handler for the process's life).
  pool_->Send(std::move(copy), timeout,
              [this, start, probe](boost::system::error_code ec, http::Response&& res) {
                inflight_.fetch_sub(1, std::memory_order_relaxed);
                breaker_.Record(BreakerResult(ec), probe, Clock::now());
                metrics_.Latency(color_, Role::kCandidate,
                                 std::chrono::duration<double>(Clock::now() - start).count());
                metrics_.Forwarded(color_, Role::kCandidate, OutcomeOf(ec, res));
              });
}

}  // namespace tandem::splitter
