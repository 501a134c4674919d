// Wall-clock time as Unix milliseconds: what `received_at`, `at` and
// `changed_at_ms` hold.
#pragma once

#include <chrono>
#include <cstdint>

namespace tandem {

inline int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tandem
