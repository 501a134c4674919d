#include "splitter/candidate_mirror.h"

#include <boost/beast/core/error.hpp>

namespace tandem::splitter {
namespace {
using Clock = std::chrono::steady_clock;

// While copies are parked, how often they are looked at: the breaker's backoff
// decides when one is actually sent.
constexpr std::chrono::milliseconds kPumpInterval{50};
// A parked request's bookkeeping beyond its body, for the byte bound.
constexpr int64_t kParkedOverhead = 512;

CandidateBreaker::Result BreakerResult(const boost::system::error_code& ec) {
  if (!ec) return CandidateBreaker::Result::kAnswered;
  if (ec == boost::beast::error::timeout) return CandidateBreaker::Result::kTimedOut;
  if (ec == http::kPoolFull) return CandidateBreaker::Result::kNotSent;
  return CandidateBreaker::Result::kRefused;
}

// The candidate did not take the copy and surely did not keep it: the
// connection failed before an answer, or it said 503 (its spool is full).
bool WorthResending(const boost::system::error_code& ec, const http::Response& res) {
  if (ec) return ec != boost::beast::error::timeout && ec != http::kPoolFull;
  return res.result_int() == 503;
}

}  // namespace

CandidateMirror::CandidateMirror(boost::asio::io_context& io,
                                 std::unique_ptr<DispatcherSet> dispatchers, size_t max_resending,
                                 Color color, CandidateCounts& counts, SplitterMetrics& metrics)
    : dispatchers_(std::move(dispatchers)),
      max_resending_(std::max<size_t>(max_resending, 1)),
      color_(color),
      counts_(counts),
      metrics_(metrics),
      timer_(io) {}

bool CandidateMirror::Admit(uint32_t max_inflight, size_t body_bytes) {
  // Decided before the live copy is marked `sent`: a copy marked sent and then
  // dropped reads as the candidate's loss. With nothing parked a copy goes to
  // the pool, which would refuse it at once; with copies parked it joins them.
  const bool full = parked_.empty() ? dispatchers_->saturated()
                                    : counts_.parked_bytes.load(std::memory_order_relaxed) +
                                              static_cast<int64_t>(body_bytes) + kParkedOverhead >
                                          static_cast<int64_t>(settings_.retry_bytes);
  if (full) {
    metrics_.Forwarded(color_, Role::kCandidate, Outcome::kShed);
    return false;
  }
  if (counts_.inflight.fetch_add(1, std::memory_order_relaxed) >=
      static_cast<int64_t>(max_inflight)) {
    counts_.inflight.fetch_sub(1, std::memory_order_relaxed);
    metrics_.Forwarded(color_, Role::kCandidate, Outcome::kShed);
    return false;
  }
  return true;
}

void CandidateMirror::Send(http::Request&& copy, const MirrorSettings& settings) {
  settings_ = settings;
  auto now = Clock::now();
  bool probe = false;
  // Parked copies go first once the candidate is back; a new one joins them.
  if (!parked_.empty()) {
    Park(std::move(copy), now, now);
    return Pump();
  }
  if (!breaker_.Allow(now, probe)) return Park(std::move(copy), now, now);
  Attempt(std::move(copy), probe, Clock::time_point{});
}

void CandidateMirror::Attempt(http::Request&& req, bool probe, Clock::time_point first_failed) {
  auto start = Clock::now();
  bool resend = first_failed != Clock::time_point{};
  // The pools outlive every callback they run, and so does this mirror (all are
  // owned by the ingest handler for the process's life).
  size_t address = dispatchers_->Pick(start);
  dispatchers_->pool(address).SendReturning(
      std::move(req), settings_.timeout,
      [this, start, probe, first_failed, resend, address](
          boost::system::error_code ec, http::Response&& res, http::Request&& sent) {
        auto now = Clock::now();
        if (resend) --resending_;
        if (ec != http::kPoolFull) metrics_.Dispatcher(color_, address, OutcomeOf(ec, res));
        if (ec && ec != http::kPoolFull) {
          // Refused, dropped or silent: its next copies go to the others.
          dispatchers_->Failed(address, now);
        } else if (!ec) {
          dispatchers_->Answered(address);
        }
        breaker_.Record(BreakerResult(ec), probe, now);
        if (ec != http::kPoolFull) {
          metrics_.Latency(color_, Role::kCandidate,
                           std::chrono::duration<double>(now - start).count());
        }
        // A copy admitted is never shed: live's row says it was sent. One the
        // pool refused anyway (it picked a full address while another looked
        // free) waits with the parked copies.
        if (WorthResending(ec, res) || ec == http::kPoolFull) {
          if (ec != http::kPoolFull) metrics_.CandidateRetry(color_);
          Park(std::move(sent), resend ? first_failed : now, now);
        } else {
          End(OutcomeOf(ec, res));
        }
        // After kPoolFull the pool is still full: the timer pumps again later,
        // rather than this thread spinning on a full pool.
        if (!parked_.empty() && ec != http::kPoolFull) Pump();
      });
}

void CandidateMirror::Park(http::Request&& req, Clock::time_point first_failed,
                           Clock::time_point now) {
  if (now - first_failed >= settings_.retry_for) return End(Outcome::kError);
  int64_t bytes = static_cast<int64_t>(req.body().size()) + kParkedOverhead;
  if (counts_.parked_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes >
      static_cast<int64_t>(settings_.retry_bytes)) {
    counts_.parked_bytes.fetch_sub(bytes, std::memory_order_relaxed);
    return End(Outcome::kError);
  }
  counts_.parked.fetch_add(1, std::memory_order_relaxed);
  parked_.push_back({std::move(req), first_failed, bytes});
  ArmTimer();
}

void CandidateMirror::Pump() {
  auto now = Clock::now();
  // Nothing is sent while the pool's queue is full: it would come back at once.
  while (!parked_.empty() && resending_ < max_resending_ &&
         dispatchers_->least_waiting() < max_resending_) {
    Parked& p = parked_.front();
    bool expired = now - p.first_failed >= settings_.retry_for;
    bool probe = false;
    if (!expired && !breaker_.Allow(now, probe)) break;
    http::Request req = std::move(p.req);
    Clock::time_point first_failed = p.first_failed;
    counts_.parked_bytes.fetch_sub(p.bytes, std::memory_order_relaxed);
    counts_.parked.fetch_sub(1, std::memory_order_relaxed);
    parked_.pop_front();
    if (expired) {
      End(Outcome::kError);
      continue;
    }
    ++resending_;
    Attempt(std::move(req), probe, first_failed);
  }
  if (!parked_.empty()) ArmTimer();
}

void CandidateMirror::ArmTimer() {
  if (timer_armed_) return;
  timer_armed_ = true;
  timer_.expires_after(kPumpInterval);
  timer_.async_wait([this](boost::system::error_code ec) {
    timer_armed_ = false;
    if (!ec) Pump();
  });
}

void CandidateMirror::End(Outcome o) {
  counts_.inflight.fetch_sub(1, std::memory_order_relaxed);
  metrics_.Forwarded(color_, Role::kCandidate, o);
}

}  // namespace tandem::splitter
