// One event as the dispatcher keeps it on disk: the splitter's id and timestamp,
// the request headers trace needs, and the body, byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::pipeline {

struct SpoolRecord {
  std::string tandem_id;
  int64_t received_at_ms = 0;
  std::string role;  // "live" or "candidate", as the splitter said
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Frame: u32 payload length, u32 CRC-32 of the payload, payload. A torn or
// corrupt tail fails the check and is cut off at recovery.
constexpr size_t kFrameHeader = 8;
void EncodeFrame(const SpoolRecord& r, std::string& out);
// Decodes the frame at `data`; returns its total size, or 0 if it is incomplete or corrupt.
size_t DecodeFrame(std::string_view data, SpoolRecord& out);

}  // namespace tandem::pipeline
