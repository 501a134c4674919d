#include "common/uuid7.h"

#include <atomic>
#include <chrono>
#include <random>

namespace tandem {
namespace {

// (unix_ms << 12 | counter) of the last id handed out. Advancing it with a CAS
// makes ids strictly monotonic across threads; a burst of more than 4096 ids in
// one millisecond borrows from the next millisecond, as RFC 9562 allows.
std::atomic<uint64_t> g_last{0};

uint64_t NextStamp(int64_t now_ms) {
  uint64_t want = static_cast<uint64_t>(now_ms) << 12;
  uint64_t last = g_last.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next = want > last ? want : last + 1;
    if (g_last.compare_exchange_weak(last, next, std::memory_order_relaxed)) return next;
  }
}

uint64_t Random64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace

Uuid7 NewUuid7() {
  using namespace std::chrono;
  int64_t now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  uint64_t stamp = NextStamp(now);
  uint64_t ms = stamp >> 12;
  uint64_t counter = stamp & 0xfff;
  uint64_t hi = (ms << 16) | (0x7ull << 12) | counter;
  uint64_t lo = (Random64() & 0x3fffffffffffffffull) | 0x8000000000000000ull;
  static const char* hex = "0123456789abcdef";
  std::string s(36, '-');
  int pos = 0;
  auto put = [&](uint64_t v, int nibbles_from, int count) {
    for (int i = 0; i < count; ++i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      s[pos++] = hex[(v >> (4 * (nibbles_from - 1 - i))) & 0xf];
    }
  };
  put(hi, 16, 16);
  put(lo, 16, 16);
  return Uuid7{std::move(s), static_cast<int64_t>(ms)};
}

}  // namespace tandem
