// The forwarder's batch to trace (POST wire::kEventBatchPath): many stamped
// events in one request, each answered on its own. One request per event cost
// each side a write and a read per event; a batch shares them.
//
// Bodies are bytes (not always UTF-8, not always JSON), so the framing is binary,
// little-endian:
//   "TNDB1\n", then per event:
//     u16 header count; per header: u16 name length, name, u32 value length, value
//     u32 body length, body
// The answer is JSON, one HTTP status per event in order: {"status":[200,400]}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem {

using BatchHeader = std::pair<std::string_view, std::string_view>;

// One event of a parsed batch; views into the batch's bytes.
struct BatchedEvent {
  std::vector<BatchHeader> headers;
  std::string_view body;
  // The first header with this name (ASCII case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

inline constexpr size_t kMaxBatchHeaders = 64;       // per event
inline constexpr size_t kMaxBatchHeaderName = 256;   // bytes
inline constexpr size_t kMaxBatchEventCount = 4096;  // per batch

// Appends one event (the prefix first, when `out` is empty). False, with `out`
// unchanged, when the event is beyond the limits below (ParseEventBatch would
// refuse the whole batch).
[[nodiscard]] bool AppendBatchedEvent(std::string& out, const std::vector<BatchHeader>& headers,
                                      std::string_view body);

// Parses a whole batch into `out` (views into `bytes`, which must outlive them).
// Every length is checked against the bytes left before it is used. On error
// returns false with `error` saying what is wrong; never throws.
bool ParseEventBatch(std::string_view bytes, std::vector<BatchedEvent>& out, std::string& error);

std::string EncodeBatchAnswer(const std::vector<unsigned>& statuses);
// False unless `text` is an answer with exactly `expected` statuses (100-599).
bool ParseBatchAnswer(std::string_view text, size_t expected, std::vector<unsigned>& statuses);

}  // namespace tandem
