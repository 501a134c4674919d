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

// Frame: u32 payload length, u32 checksum, payload. The checksum is the payload's
// CRC-32 XOR a salt derived from the segment's base offset: segment files are
// recycled, and frames left from a file's previous life must not check out.
// A torn or corrupt tail fails the check and is cut off at recovery.
constexpr size_t kFrameHeader = 8;
uint32_t SegmentSalt(uint64_t segment_base);
// Encodes with a plain CRC; SealFrame binds a frame to its segment before it is written.
void EncodeFrame(const SpoolRecord& r, std::string& out);
void SealFrame(std::string& frame, uint64_t segment_base);
// Decodes the frame at `data` in the segment at `segment_base`; returns its total
// size, or 0 if it is incomplete, corrupt, or from another segment's life.
size_t DecodeFrame(std::string_view data, uint64_t segment_base, SpoolRecord& out);

}  // namespace tandem::pipeline
