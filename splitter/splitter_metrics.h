// The splitter's metrics, created once so the request path only increments.
#pragma once

#include <array>
#include <atomic>
#include <vector>

#include "common/config.h"
#include "common/http_server.h"
#include "common/metrics.h"

namespace tandem::splitter {

enum class Role { kLive = 0, kCandidate = 1 };
enum class Listener { kIngest = 0, kAdmin = 1 };
enum class Outcome { kOk = 0, kError = 1, kTimeout = 2, kShed = 3 };
enum class Rejection {
  kBodyTooLarge,
  kEmptyBody,
  kUnsupportedMediaType,
  kNotFound,
  kMethodNotAllowed,
  kMalformed,
  kHeaderTimeout,
  kCorsForbidden,
  kUnsupportedEncoding,
  kBadEncoding,
  kCount
};

// The outcome label of a copy's exchange with a dispatcher (SPEC section 9):
// ok below 500, error for 5xx or transport errors, timeout, shed (never sent).
Outcome OutcomeOf(const boost::system::error_code& ec, const http::Response& res);

class SplitterMetrics {
 public:
  explicit SplitterMetrics(Metrics& m);

  void Forwarded(Color c, Role r, Outcome o) {
    forwarded_[Index(c)][static_cast<int>(r)][static_cast<int>(o)]->Increment();
  }
  void Latency(Color c, Role r, double seconds) {
    latency_[Index(c)][static_cast<int>(r)]->Observe(seconds);
  }
  void Rejected(Rejection r) { rejected_[static_cast<int>(r)]->Increment(); }
  void Response(unsigned status);
  void SetLive(Color live);
  void Admin(const char* endpoint, unsigned status);
  void Swap(const char* kind) { swaps_.Add({{"kind", kind}}).Increment(); }
  void ConnectionClosed(Listener l, http::ConnectionEvent e) {
    closed_[static_cast<int>(l)][static_cast<int>(e)]->Increment();
  }
  void SetOpenConnections(Listener l, size_t n) {
    open_[static_cast<int>(l)]->Set(static_cast<double>(n));
  }
  void SetInflight(Color c, Role r, double v) { inflight_[Index(c)][static_cast<int>(r)]->Set(v); }
  void CandidateRetry(Color c) { retries_[Index(c)]->Increment(); }
  void SetParked(Color c, double copies) { parked_[Index(c)]->Set(copies); }
  // Per dispatcher address of a color (colors.C.dispatchers): created at start.
  void AddDispatchers(Color c, const std::vector<HostPort>& addresses);
  void Dispatcher(Color c, size_t address, Outcome o) {
    per_address_[Index(c)][address][static_cast<int>(o)]->Increment();
  }
  // The state store: reachable (0/1), for how long it has not been, its revision.
  void SetStore(bool reachable, double unreachable_seconds, double revision) {
    store_reachable_->Set(reachable ? 1 : 0);
    store_unreachable_seconds_->Set(unreachable_seconds);
    store_revision_->Set(revision);
  }

 private:
  prometheus::Counter* forwarded_[2][2][4];
  prometheus::Histogram* latency_[2][2];
  prometheus::Gauge* inflight_[2][2];
  prometheus::Counter* retries_[2];
  prometheus::Gauge* parked_[2];
  std::vector<std::array<prometheus::Counter*, 4>> per_address_[2];
  prometheus::Gauge* store_reachable_;
  prometheus::Gauge* store_unreachable_seconds_;
  prometheus::Gauge* store_revision_;
  prometheus::Counter* rejected_[static_cast<int>(Rejection::kCount)];
  prometheus::Family<prometheus::Counter>& responses_;
  std::array<std::atomic<prometheus::Counter*>, 600> by_status_{};
  prometheus::Gauge* live_[2];
  prometheus::Counter* closed_[2][3];
  prometheus::Gauge* open_[2];
  prometheus::Family<prometheus::Counter>& admin_;
  prometheus::Family<prometheus::Counter>& swaps_;
  prometheus::Family<prometheus::Counter>& dispatcher_requests_;
};

}  // namespace tandem::splitter
