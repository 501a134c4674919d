#include "common/backoff.h"

#include <algorithm>
#include <cstdint>
#include <random>

namespace tandem {

std::chrono::milliseconds Backoff(int attempt, BackoffPolicy p) {
  thread_local std::mt19937 rng{std::random_device{}()};
  int64_t cap = std::min<int64_t>(p.max.count(), p.first.count() << std::clamp(attempt, 0, 20));
  cap = std::max<int64_t>(cap, 1);
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng));
}

}  // namespace tandem
