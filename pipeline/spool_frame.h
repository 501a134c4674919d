// One event as the dispatcher keeps it on disk, and the frame that holds it.
//
// Frame (little-endian): magic u32 | payload length u32 | payload CRC-32 u32 |
// header check u32 | payload. The header check is the CRC-32 of the first 12
// bytes XOR a salt derived from the segment's base position: segment files are
// recycled, and frames left from a file's earlier life must not check out. A
// reader trusts a length only once the header check holds, so a garbage length
// never sizes a read. The magic starts with 0xF5, a byte valid UTF-8 never holds,
// so after a corrupt range the next frame is found by looking for it.
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

inline constexpr size_t kFrameHeader = 16;
inline constexpr unsigned char kFrameMagic[4] = {0xF5, 0xF7, 'T', 'S'};
// Payloads larger than this are corruption, not data: the config caps bodies far
// lower (kMaxBodyBytes), and the dispatcher refuses a record that would not fit.
inline constexpr uint32_t kMaxPayload = 64u << 20;
// The largest body the spool can hold, leaving room for the id and headers.
inline constexpr uint64_t kMaxBodyBytes = 32ull << 20;

uint32_t SegmentSalt(uint64_t segment_base);

// Appends the record's frame to `out`, unsealed; SealFrame binds a frame to the
// segment it is written to. Returns false (and appends nothing) when the record
// is larger than kMaxPayload.
bool EncodeFrame(const SpoolRecord& r, std::string& out);
void SealFrame(std::string& frame, uint64_t segment_base);

enum class HeaderCheck { kOk, kIncomplete, kBad };
// Checks the 16-byte header at `data`; on kOk, `payload_len` is trustworthy.
HeaderCheck CheckHeader(std::string_view data, uint64_t segment_base, uint32_t& payload_len);
// Decodes a whole frame whose header checked out; false when the payload is corrupt.
bool DecodePayload(std::string_view frame, SpoolRecord& out);

}  // namespace tandem::pipeline
