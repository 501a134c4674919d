#include "pipeline/spool_segment.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace tandem::pipeline {
std::string SegmentFileName(uint64_t base) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020" PRIu64 ".seg", base);
  return name;
}

std::optional<uint64_t> ParseSegmentFileName(const std::string& name) {
  if (name.size() != 24 || name.compare(20, 4, ".seg") != 0) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    if (v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return v;
}

FrameScanner::FrameScanner(int fd, uint64_t base, uint64_t from, uint64_t to, size_t chunk)
    : fd_(fd),
      base_(base),
      chunk_(std::max<size_t>(chunk, kFrameHeader)),
      pos_(from),
      to_(std::max(from, to)),
      buf_start_(from) {}

std::string_view FrameScanner::Avail() const {
  return std::string_view(buf_).substr(static_cast<size_t>(pos_ - buf_start_));
}

void FrameScanner::Skip(size_t n) {
  pos_ += n;
  skipped_ += n;
}

bool FrameScanner::Fill(size_t n) {
  size_t have = buf_.size() - static_cast<size_t>(pos_ - buf_start_);
  n = static_cast<size_t>(std::min<uint64_t>(n, to_ - pos_));
  if (have >= n) return true;
  // Keep what is unread, then read enough for `n` (at least a chunk, never past `to`).
  buf_.erase(0, static_cast<size_t>(pos_ - buf_start_));
  buf_start_ = pos_;
  size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(n, chunk_), to_ - pos_));
  size_t got = buf_.size();
  bool eof = false;
  buf_.resize(want);
  while (got < want && !eof) {
    ssize_t r = ::pread(fd_, buf_.data() + got, want - got, static_cast<off_t>(buf_start_ + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      error_ = {errno, std::system_category()};
      buf_.resize(got);
      return false;
    }
    eof = r == 0;  // the file is shorter than `to`: the caller counts what is missing
    got += static_cast<size_t>(r);
  }
  buf_.resize(got);
  if (eof) to_ = buf_start_ + got;
  return true;
}

bool FrameScanner::Next(SpoolRecord& rec, uint64_t& start, uint64_t& end) {
  while (pos_ < to_) {
    if (!Fill(kFrameHeader)) return false;
    std::string_view a = Avail();
    if (a.empty()) break;
    uint32_t len = 0;
    HeaderCheck h = CheckHeader(a, base_, len);
    if (h == HeaderCheck::kOk && pos_ + kFrameHeader + len <= to_) {
      if (!Fill(kFrameHeader + len)) return false;
      a = Avail();
      if (a.size() >= kFrameHeader + len && DecodePayload(a.substr(0, kFrameHeader + len), rec)) {
        start = pos_;
        end = pos_ + kFrameHeader + len;
        pos_ = end;
        return true;
      }
    } else if (h == HeaderCheck::kIncomplete && a.size() >= static_cast<size_t>(to_ - pos_)) {
      Skip(static_cast<size_t>(to_ - pos_));  // a header cut off by `to`
      break;
    }
    // Not a frame here: look for the next magic after this byte.
    Skip(1);
    for (;;) {
      if (!Fill(chunk_)) return false;
      a = Avail();
      if (a.empty()) break;
      const void* m = std::memchr(a.data(), kFrameMagic[0], a.size());
      if (m) {
        Skip(static_cast<size_t>(static_cast<const char*>(m) - a.data()));
        break;
      }
      Skip(a.size());
    }
  }
  return false;
}

}  // namespace tandem::pipeline
