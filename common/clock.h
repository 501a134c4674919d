// Wall-clock time as Unix milliseconds: what `received_at`, `at` and
// `changed_at_ms` hold.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace tandem {

inline int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "HH:MM:SS" (UTC) of Unix milliseconds, for people.
inline std::string UtcClock(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

}  // namespace tandem
