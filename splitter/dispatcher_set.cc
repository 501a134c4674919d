#include "splitter/dispatcher_set.h"

#include <algorithm>
#include <stdexcept>

#include "common/backoff.h"

namespace tandem::splitter {

DispatcherSet::DispatcherSet(boost::asio::io_context& io, const std::vector<HostPort>& addresses,
                             http::PoolLimits limits)
    : max_waiting_(limits.max_waiting) {
  if (addresses.empty()) throw std::invalid_argument("a color needs at least one dispatcher");
  for (const auto& a : addresses) {
    members_.push_back({http::ClientPool::Create(io, http::Upstream::Of(a), limits)});
  }
}

size_t DispatcherSet::Pick(Clock::time_point now, uint64_t tried) {
  const size_t n = members_.size();
  if (n == 1) return 0;
  auto was_tried = [tried](size_t i) { return i < 64 && (tried >> i & 1); };
  auto full = [this](size_t i) {
    return max_waiting_ > 0 && members_[i].pool->waiting() >= max_waiting_;
  };
  for (size_t k = 0; k < n; ++k) {
    size_t i = (next_ + k) % n;
    if (was_tried(i) || members_[i].down_until > now || full(i)) continue;
    next_ = i + 1;
    return i;
  }
  // Nothing is usable: the untried address due back first (or any, if all were tried).
  size_t best = SIZE_MAX;
  for (size_t i = 0; i < n; ++i) {
    if (was_tried(i)) continue;
    if (best == SIZE_MAX || members_[i].down_until < members_[best].down_until) best = i;
  }
  if (best != SIZE_MAX) return best;
  return next_++ % n;
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
