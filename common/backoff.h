// The one retry delay every Tandem service uses: exponential, capped, with
// jitter (a random point in the upper half), so retries from many clients of one
// dependency spread out instead of arriving together.
#pragma once

#include <chrono>

namespace tandem {

struct BackoffPolicy {
  std::chrono::milliseconds first{100};
  std::chrono::milliseconds max{10000};
};

// The delay before retry number `attempt` (0 for the first retry).
std::chrono::milliseconds Backoff(int attempt, BackoffPolicy policy = {});

}  // namespace tandem
