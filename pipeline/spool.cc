#include "pipeline/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace tandem::pipeline {
namespace fs = std::filesystem;

namespace {

std::error_code Errno() { return {errno, std::system_category()}; }

void FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

bool ReadAt(int fd, uint64_t off, size_t n, std::string& out) {
  out.resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return got == n;
}

}  // namespace

std::string Spool::SegmentPath(uint64_t base) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%020" PRIu64 ".seg", base);
  return (fs::path(opts_.dir) / name).string();
}

Spool::Spool(SpoolOptions options) : opts_(std::move(options)) {
  fs::create_directories(opts_.dir);
  for (const auto& e : fs::directory_iterator(opts_.dir)) {
    std::string n = e.path().filename().string();
    if (n.size() == 24 && n.substr(20) == ".seg")
      segments_.push_back({std::stoull(n.substr(0, 20)), e.path().string()});
    if (n.size() == 29 && n.substr(20) == ".seg.free") free_.push_back(e.path().string());
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.base < b.base; });
  if (segments_.empty()) segments_.push_back({0, SegmentPath(0)});
  OpenTail();
  writer_ = std::thread([this] { WriterLoop(); });
}

Spool::~Spool() {
  Stop();
  if (tail_fd_ >= 0) ::close(tail_fd_);
}

// Opens the last segment and keeps only its whole, checksummed records: a crash
// mid-write leaves a torn frame, which was never acknowledged.
void Spool::OpenTail() {
  const Segment& tail = segments_.back();
  tail_fd_ = ::open(tail.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (tail_fd_ < 0)
    throw std::runtime_error(tail.path + ": cannot open the spool segment: " + Errno().message());
  struct stat st;
  ::fstat(tail_fd_, &st);
  uint64_t size = static_cast<uint64_t>(st.st_size), good = 0;
  std::string buf;
  SpoolRecord rec;
  while (good < size) {
    std::string hdr;
    if (!ReadAt(tail_fd_, good, kFrameHeader, hdr)) break;
    uint32_t len = static_cast<uint32_t>(static_cast<unsigned char>(hdr[0])) |
                   static_cast<uint32_t>(static_cast<unsigned char>(hdr[1])) << 8 |
                   static_cast<uint32_t>(static_cast<unsigned char>(hdr[2])) << 16 |
                   static_cast<uint32_t>(static_cast<unsigned char>(hdr[3])) << 24;
    if (good + kFrameHeader + len > size || !ReadAt(tail_fd_, good, kFrameHeader + len, buf)) break;
    size_t n = DecodeFrame(buf, tail.base, rec);
    if (n == 0) break;
    good += n;
  }
  if (good < size) {
    if (::ftruncate(tail_fd_, static_cast<off_t>(good)) != 0 || ::fsync(tail_fd_) != 0) {
      throw std::runtime_error(tail.path + ": cannot cut the torn tail: " + Errno().message());
    }
  }
  tail_size_ = good;
  durable_end_ = tail.base + good;
  FsyncDir(opts_.dir);
}

// Starts the next segment at the durable end, in a recycled file when one is
// free: overwriting blocks the file already has changes neither its size nor its
// extents, so fdatasync flushes data without a journal commit, and no delete
// (a TRIM on `discard` mounts) ever happens on the ack path.
void Spool::Rotate() {
  ::close(tail_fd_);
  uint64_t base = durable_end_.load();
  std::string path = SegmentPath(base);
  std::string recycled;
  {
    std::lock_guard<std::mutex> l(seg_mu_);
    if (!free_.empty()) {
      recycled = free_.front();
      free_.pop_front();
    }
  }
  if (!recycled.empty() && ::rename(recycled.c_str(), path.c_str()) != 0) recycled.clear();
  tail_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (tail_fd_ < 0) return;
  FsyncDir(opts_.dir);
  tail_size_ = 0;
  std::lock_guard<std::mutex> l(seg_mu_);
  segments_.push_back({base, path});
}

uint64_t Spool::start() const {
  std::lock_guard<std::mutex> l(seg_mu_);
  return segments_.front().base;
}

size_t Spool::segments() const {
  std::lock_guard<std::mutex> l(seg_mu_);
  return segments_.size();
}

void Spool::Append(std::string frame, Done done) {
  uint64_t size = frame.size();
  if (bytes() + queued_bytes_.load() + size > opts_.max_bytes) {
    return done(std::make_error_code(std::errc::no_space_on_device));
  }
  {
    std::lock_guard<std::mutex> l(q_mu_);
    if (stopping_) return done(std::make_error_code(std::errc::operation_canceled));
    queued_bytes_ += size;
    queue_.push_back({std::move(frame), std::move(done)});
  }
  q_cv_.notify_one();
}

void Spool::WriterLoop() {
  std::vector<Pending> batch;
  std::string buf;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(q_mu_);
      q_cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) break;
      batch.swap(queue_);
    }
    buf.clear();
    size_t batch_bytes = 0;
    for (auto& p : batch) batch_bytes += p.frame.size();
    queued_bytes_ -= batch_bytes;
    std::error_code ec;
    auto t0 = std::chrono::steady_clock::now();
    if (tail_size_ > 0 && tail_size_ + batch_bytes > opts_.segment_bytes) Rotate();
    uint64_t base = durable_end_.load() - tail_size_;
    for (auto& p : batch) {
      SealFrame(p.frame, base);
      buf += p.frame;
    }
    if (tail_fd_ < 0) ec = std::make_error_code(std::errc::io_error);
    size_t off = 0;
    while (!ec && off < buf.size()) {
      ssize_t n = ::pwrite(tail_fd_, buf.data() + off, buf.size() - off,
                           static_cast<off_t>(tail_size_ + off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        ec = Errno();
      else
        off += static_cast<size_t>(n);
    }
    if (!ec && ::fdatasync(tail_fd_) != 0) ec = Errno();
    if (ec) {
      // Nothing of this batch counts: cut it off so the log stays whole.
      if (tail_fd_ >= 0 && ::ftruncate(tail_fd_, static_cast<off_t>(tail_size_)) == 0)
        ::fdatasync(tail_fd_);
    } else {
      tail_size_ += buf.size();
      {
        std::lock_guard<std::mutex> l(wait_mu_);
        durable_end_.fetch_add(buf.size(), std::memory_order_release);
      }
      wait_cv_.notify_all();
    }
    if (opts_.on_commit) {
      opts_.on_commit(batch.size(),
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    for (auto& p : batch) p.done(ec);
    batch.clear();
  }
  std::lock_guard<std::mutex> l(wait_mu_);
  wait_cv_.notify_all();
}

uint64_t Spool::WaitBeyond(uint64_t pos, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(wait_mu_);
  wait_cv_.wait_for(l, timeout, [&] {
    std::lock_guard<std::mutex> q(q_mu_);
    return durable_end() > pos || stopping_;
  });
  return durable_end();
}

std::error_code Spool::Read(uint64_t pos, size_t max_records, std::vector<SpoolEntry>& out) const {
  out.clear();
  uint64_t end = durable_end();
  while (out.size() < max_records && pos < end) {
    Segment seg;
    uint64_t seg_end;
    {
      std::lock_guard<std::mutex> l(seg_mu_);
      auto it = std::upper_bound(segments_.begin(), segments_.end(), pos,
                                 [](uint64_t p, const Segment& s) { return p < s.base; });
      if (it == segments_.begin()) return std::make_error_code(std::errc::invalid_argument);
      seg_end = it == segments_.end() ? end : it->base;
      seg = *(it - 1);
    }
    if (pos >= seg_end) break;
    int fd = ::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno();
    // About what `max_records` small events need, 64 KiB to 4 MiB (a frame larger
    // than that is read on its own below): a consumer asking for a few records
    // must not copy megabytes to decode them.
    uint64_t want = std::clamp<uint64_t>((max_records - out.size()) * 1024, 64 << 10, 4 << 20);
    uint64_t chunk_end = std::min<uint64_t>(seg_end, pos + want);
    std::string buf;
    bool ok = ReadAt(fd, pos - seg.base, chunk_end - pos, buf);
    size_t used = 0;
    SpoolEntry e;
    while (ok && out.size() < max_records && used < buf.size()) {
      size_t n = DecodeFrame(std::string_view(buf).substr(used), seg.base, e.record);
      if (n == 0) {
        if (used > 0) break;
        // A single frame larger than the chunk: read exactly it.
        std::string hdr;
        if (!ReadAt(fd, pos - seg.base, kFrameHeader, hdr)) break;
        uint32_t len = static_cast<uint32_t>(static_cast<unsigned char>(hdr[0])) |
                       static_cast<uint32_t>(static_cast<unsigned char>(hdr[1])) << 8 |
                       static_cast<uint32_t>(static_cast<unsigned char>(hdr[2])) << 16 |
                       static_cast<uint32_t>(static_cast<unsigned char>(hdr[3])) << 24;
        if (!ReadAt(fd, pos - seg.base, kFrameHeader + len, buf) ||
            DecodeFrame(buf, seg.base, e.record) == 0) {
          ::close(fd);
          return std::make_error_code(std::errc::illegal_byte_sequence);
        }
        n = buf.size();
      }
      used += n;
      e.end = pos + used;
      out.push_back(std::move(e));
    }
    ::close(fd);
    if (!ok) return std::make_error_code(std::errc::io_error);
    pos += used;
    if (used == 0) break;
  }
  return {};
}

void Spool::Release(uint64_t pos) {
  std::vector<std::string> done;
  {
    std::lock_guard<std::mutex> l(seg_mu_);
    // A segment can go when the next one starts at or before pos; the tail never goes.
    while (segments_.size() > 1 && segments_[1].base <= pos) {
      done.push_back(segments_.front().path);
      segments_.erase(segments_.begin());
    }
  }
  if (done.empty()) return;
  for (const auto& p : done) {
    // Kept for reuse by Rotate (at most kFreeSegments); the rest are deleted.
    std::string free_path = p + ".free";
    bool keep;
    {
      std::lock_guard<std::mutex> l(seg_mu_);
      keep = free_.size() < kFreeSegments;
    }
    if (keep && ::rename(p.c_str(), free_path.c_str()) == 0) {
      std::lock_guard<std::mutex> l(seg_mu_);
      free_.push_back(free_path);
    } else {
      ::unlink(p.c_str());
    }
  }
  FsyncDir(opts_.dir);
}

void Spool::Stop() {
  {
    std::lock_guard<std::mutex> l(q_mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  q_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  std::lock_guard<std::mutex> l(wait_mu_);
  wait_cv_.notify_all();
}

}  // namespace tandem::pipeline
