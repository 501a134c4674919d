#include "splitter/dispatcher_set.h"

#include <algorithm>

#include "common/backoff.h"

namespace tandem::splitter {

DispatcherSet::DispatcherSet(boost::asio::io_context& io, const std::vector<HostPort>& addresses,
                             http::PoolLimits limits) {
  for (const auto& a : addresses) {
    members_.push_back({http::ClientPool::Create(io, http::Upstream::Of(a), limits)});
  }
}

size_t DispatcherSet::Pick(Clock::time_point now, size_t except) {
  const size_t n = members_.size();
  if (n == 1) return 0;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (next_ + k) % n;
    if (i == except || members_[i].down_until > now) continue;
    next_ = i + 1;
    return i;
  }
  // Every other address is skipped: the one due back first.
  size_t best = except == 0 ? 1 : 0;
  for (size_t i = 0; i < n; ++i) {
    if (i != except && members_[i].down_until < members_[best].down_until) best = i;
  }
  return best;
}

void DispatcherSet::Failed(size_t i, Clock::time_point now) {
  Member& m = members_[i];
  m.down_until = now + Backoff(std::min(m.failures++, 6), {.max = std::chrono::seconds(5)});
}

size_t DispatcherSet::least_waiting() const {
  size_t least = SIZE_MAX;
  for (const auto& m : members_) least = std::min(least, m.pool->waiting());
  return least;
}

}  // namespace tandem::splitter
