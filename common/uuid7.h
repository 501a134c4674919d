// UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter that keeps
// ids from one process strictly increasing, then 62 random bits.
#pragma once

#include <cstdint>
#include <string>

namespace tandem {

struct Uuid7 {
  std::string text;  // canonical 8-4-4-4-12 lowercase
  int64_t unix_ms;   // the timestamp the id carries
};

// Thread-safe; ids sort by creation order within the process.
Uuid7 NewUuid7();

}  // namespace tandem
