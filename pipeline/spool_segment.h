// A spool segment file: its name (the position of its first byte, zero-padded,
// ".seg"; recycled files end in ".seg.free") and a scanner over its frames.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include "pipeline/spool_frame.h"

namespace tandem::pipeline {

std::string SegmentFileName(uint64_t base);
// The base of "00000000000000001234.seg"; nullopt for any other name.
std::optional<uint64_t> ParseSegmentFileName(const std::string& name);
inline constexpr const char* kFreeSuffix = ".free";

// Reads the frames of one segment file between two file offsets, in chunks.
// Bytes that do not form a valid frame are skipped up to the next frame that
// checks out, and counted: a corrupt frame never hides the frames after it.
class FrameScanner {
 public:
  // `fd` stays owned by the caller; frames are read from [from, to), `chunk`
  // bytes at a time (more for a frame larger than that).
  FrameScanner(int fd, uint64_t segment_base, uint64_t from, uint64_t to, size_t chunk = 256 << 10);

  // The next valid frame: its record and its [start, end) file offsets. False at
  // `to` or on a read error (error()).
  bool Next(SpoolRecord& rec, uint64_t& start, uint64_t& end);

  uint64_t offset() const { return pos_; }  // everything before it was returned or skipped
  uint64_t skipped() const { return skipped_; }
  const std::error_code& error() const { return error_; }

 private:
  // Makes at least `n` bytes from pos_ available in buf_ (fewer at `to`).
  bool Fill(size_t n);
  std::string_view Avail() const;
  void Skip(size_t n);

  int fd_;
  uint64_t base_;
  size_t chunk_;
  uint64_t pos_, to_;
  std::string buf_;
  uint64_t buf_start_;  // file offset of buf_[0]
  uint64_t skipped_ = 0;
  std::error_code error_;
};

}  // namespace tandem::pipeline
