#include "pipeline/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "common/file_util.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "pipeline/spool_segment.h"

namespace tandem::pipeline {
namespace fs = std::filesystem;

namespace {

std::error_code Errno() { return {errno, std::system_category()}; }

std::error_code FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) return Errno();
  return {};
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Errors after which more of the same file will not help.
bool OutOfSpace(const std::error_code& ec) {
  return ec.value() == ENOSPC || ec.value() == EDQUOT || ec.value() == EFBIG;
}

}  // namespace

uint64_t SegmentBytesFor(uint64_t max_bytes) {
  return std::clamp<uint64_t>(max_bytes / 8, 64 << 10, 64ull << 20);
}

std::string Spool::PathFor(uint64_t base) const {
  return (fs::path(opts_.dir) / SegmentFileName(base)).string();
}

Spool::Spool(SpoolOptions options)
    : opts_(std::move(options)),
      segment_bytes_(opts_.segment_bytes ? opts_.segment_bytes : SegmentBytesFor(opts_.max_bytes)),
      max_bytes_(opts_.max_bytes) {
  Open();
  writer_ = std::thread([this] { WriterLoop(); });
}

Spool::~Spool() {
  Stop();
  if (tail_fd_ >= 0) ::close(tail_fd_);
}

// Written when a spool is created: segments in a folder without it are in the
// first frame format, which this version cannot read.
constexpr const char* kFormatFile = "FORMAT";
constexpr const char* kFormat = "tandem-spool 2\n";

void Spool::Open() {
  fs::create_directories(opts_.dir);
  const std::string format_path = (fs::path(opts_.dir) / kFormatFile).string();
  for (const auto& e : fs::directory_iterator(opts_.dir)) {
    std::string n = e.path().filename().string();
    if (auto base = ParseSegmentFileName(n)) {
      segments_.push_back({*base, 0, e.path().string()});
    } else if (n.size() > 4 && n.compare(n.size() - 4, 4, ".new") == 0 &&
               ParseSegmentFileName(n.substr(0, n.size() - 4))) {
      fs::remove(e.path());  // a rotation a crash interrupted: never named, never written
    } else if (n.size() > 5 && n.compare(n.size() - 5, 5, kFreeSuffix) == 0 &&
               ParseSegmentFileName(n.substr(0, n.size() - 5))) {
      free_.push_back(e.path().string());
    }
  }
  if (!fs::exists(format_path)) {
    if (!segments_.empty()) {
      throw std::runtime_error(opts_.dir +
                               ": this spool was written by an earlier Tandem in another format; "
                               "let that version drain it, or move the folder away");
    }
    if (auto ec = WriteFileAtomic(format_path, kFormat)) {
      throw std::runtime_error(format_path + ": cannot write: " + ec.message());
    }
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.base < b.base; });
  // A closed segment's frames end where the next one starts, or sooner if its
  // file is shorter (then the bytes between are missing, and readers skip them).
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    segments_[i].end =
        std::min(segments_[i + 1].base, segments_[i].base + FileSize(segments_[i].path));
  }
  if (segments_.empty()) {
    recovery_.missing_bytes = opts_.resume_at;
    StartSegmentAt(opts_.resume_at);
  } else {
    OpenTail();
    if (durable_end_ < opts_.resume_at) {
      // The consumers have been further than this spool reaches: its end was
      // lost. New events go after every checkpoint, never below one.
      recovery_.missing_bytes = opts_.resume_at - durable_end_;
      if (tail_size_ == 0) {
        ::unlink(segments_.back().path.c_str());
        segments_.pop_back();
      } else {
        segments_.back().end = durable_end_;
      }
      ::close(tail_fd_);
      tail_fd_ = -1;
      StartSegmentAt(opts_.resume_at);
    }
  }
  recovery_.segments = segments_.size();
  released_ = segments_.front().base;
  NoteSecondBase();
  if (auto ec = FsyncDir(opts_.dir)) {
    throw std::runtime_error(opts_.dir + ": cannot sync the spool folder: " + ec.message());
  }
}

void Spool::StartSegmentAt(uint64_t base) {
  std::string path = PathFor(base);
  tail_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (tail_fd_ < 0) {
    throw std::runtime_error(path + ": cannot create a spool segment: " + Errno().message());
  }
  segments_.push_back({base, base, path});
  tail_size_ = 0;
  durable_end_ = base;
}

// Opens the last segment and keeps its frames. A write the crash interrupted
// leaves a torn tail: no valid frame after it, cut off (it was never acked). A
// corrupt range with valid frames after it is damage, not a torn write: kept,
// reported, and skipped by readers, so the acknowledged frames after it stay.
void Spool::OpenTail() {
  Segment& tail = segments_.back();
  tail_fd_ = ::open(tail.path.c_str(), O_RDWR | O_CLOEXEC);
  if (tail_fd_ < 0) {
    throw std::runtime_error(tail.path + ": cannot open the spool segment: " + Errno().message());
  }
  uint64_t size = FileSize(tail.path);
  FrameScanner scan(tail_fd_, tail.base, 0, size);
  SpoolRecord rec;
  uint64_t start = 0, end = 0, good = 0, skipped_before_good = 0;
  while (scan.Next(rec, start, end)) {
    good = end;
    skipped_before_good = scan.skipped();
  }
  if (scan.error()) {
    throw std::runtime_error(tail.path +
                             ": cannot read the spool segment: " + scan.error().message());
  }
  recovery_.corrupt_bytes = skipped_before_good;
  recovery_.torn_bytes = size - good;
  if (good < size) {
    if (::ftruncate(tail_fd_, static_cast<off_t>(good)) != 0 || ::fsync(tail_fd_) != 0) {
      throw std::runtime_error(tail.path + ": cannot cut the torn tail: " + Errno().message());
    }
  }
  tail_size_ = good;
  durable_end_ = tail.base + good;
  tail.end = durable_end_;
}

void Spool::NoteSecondBase() {
  second_base_.store(segments_.size() > 1 ? segments_[1].base : UINT64_MAX,
                     std::memory_order_release);
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
  if (bytes() + queued_bytes_.load() + size > max_bytes_.load()) {
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
  for (;;) {
    {
      std::unique_lock<std::mutex> l(q_mu_);
      q_cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) break;
      batch.swap(queue_);
    }
    size_t batch_bytes = 0;
    for (auto& p : batch) batch_bytes += p.frame.size();
    auto t0 = std::chrono::steady_clock::now();
    std::error_code ec = WriteBatch(batch, batch_bytes);
    // Only now: until the batch counts in durable_end, it counts as queued.
    queued_bytes_ -= batch_bytes;
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

std::error_code Spool::WriteBatch(std::vector<Pending>& batch, size_t batch_bytes) {
  if (tail_size_ > 0 && (rotate_wanted_ || tail_size_ + batch_bytes > segment_bytes_) && Rotate()) {
    // The consumers may have passed the old tail already (a full disk: they catch
    // up while every write fails) and will not move again to free it.
    Release(released_.load(std::memory_order_acquire));
  }
  if (tail_fd_ < 0) return std::make_error_code(std::errc::io_error);
  uint64_t base = durable_end_.load() - tail_size_;
  std::string buf;
  buf.reserve(batch_bytes);
  for (auto& p : batch) {
    SealFrame(p.frame, base);
    buf += p.frame;
  }
  std::error_code ec;
  size_t off = 0;
  while (!ec && off < buf.size()) {
    ssize_t n = ::pwrite(tail_fd_, buf.data() + off, buf.size() - off,
                         static_cast<off_t>(tail_size_ + off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ec = Errno();
    } else {
      off += static_cast<size_t>(n);
    }
  }
  if (!ec && ::fdatasync(tail_fd_) != 0) ec = Errno();
  if (ec) {
    // Nothing of this batch counts: cut it off so the log stays whole, and start
    // the next batch in a fresh file (after a failed fdatasync this one's pages
    // cannot be trusted; after EFBIG it cannot grow).
    if (::ftruncate(tail_fd_, static_cast<off_t>(tail_size_)) == 0) ::fdatasync(tail_fd_);
    rotate_wanted_ = true;
    if (OutOfSpace(ec)) DropFreeFiles();
    log::Error("spool write failed; these events are refused",
               {{"error", ec.message()}, {"events", batch.size()}});
    return ec;
  }
  tail_size_ += buf.size();
  {
    std::lock_guard<std::mutex> l(wait_mu_);
    durable_end_.fetch_add(buf.size(), std::memory_order_release);
  }
  wait_cv_.notify_all();
  return {};
}

// Starts the next segment at the durable end, in a recycled file when one is
// free: overwriting blocks the file already has changes neither its size nor its
// extents, so fdatasync flushes data without a journal commit, and no delete
// (a TRIM on `discard` mounts) happens on the ack path. The new file is opened
// before the old one is let go: if it cannot be, appends go on in the old one and
// the rotation is tried again a second later.
bool Spool::Rotate() {
  auto now = std::chrono::steady_clock::now();
  if (now - rotate_failed_at_ < std::chrono::seconds(1) && tail_fd_ >= 0 && !rotate_wanted_) {
    return false;
  }
  uint64_t base = durable_end_.load();
  std::string path = PathFor(base);
  std::string recycled;
  {
    std::lock_guard<std::mutex> l(seg_mu_);
    if (!free_.empty()) {
      recycled = free_.front();
      free_.pop_front();
    }
  }
  // The file gets its segment name only once it is open, and loses it again if
  // the name cannot be made durable: a file named after a position inside the
  // current tail would cut that tail short at the next start.
  std::string from = recycled.empty() ? path + ".new" : recycled;
  int fd = ::open(from.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  std::error_code ec = fd < 0 ? Errno() : std::error_code();
  bool named = false;
  if (!ec) {
    named = ::rename(from.c_str(), path.c_str()) == 0;
    if (!named) ec = Errno();
  }
  if (!ec) ec = FsyncDir(opts_.dir);
  if (ec) {
    if (fd >= 0) ::close(fd);
    ::unlink(named ? path.c_str() : from.c_str());
    if (rotate_failed_at_ + std::chrono::seconds(1) <= now) {
      log::Error("cannot start a new spool segment; appending to the current one",
                 {{"path", path}, {"error", ec.message()}});
    }
    rotate_failed_at_ = now;
    return false;
  }
  ::close(tail_fd_);
  tail_fd_ = fd;
  tail_size_ = 0;
  rotate_wanted_ = false;
  std::lock_guard<std::mutex> l(seg_mu_);
  segments_.back().end = base;
  segments_.push_back({base, base, path});
  NoteSecondBase();
  return true;
}

void Spool::DropFreeFiles() {
  std::deque<std::string> drop;
  {
    std::lock_guard<std::mutex> l(seg_mu_);
    drop.swap(free_);
  }
  for (const auto& p : drop) ::unlink(p.c_str());
}

uint64_t Spool::WaitBeyond(uint64_t pos, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(wait_mu_);
  wait_cv_.wait_for(l, timeout, [&] {
    std::lock_guard<std::mutex> q(q_mu_);
    return durable_end() > pos || stopping_;
  });
  return durable_end();
}

std::error_code Spool::Read(uint64_t pos, size_t max_records, ReadBatch& out) const {
  out.entries.clear();
  out.next = pos;
  out.skipped = 0;
  const uint64_t end = durable_end();
  // Enough for what `max_records` small events need: a consumer asking for a few
  // records must not copy megabytes to decode them.
  const size_t chunk =
      static_cast<size_t>(std::clamp<uint64_t>(max_records * 1024, 16 << 10, 4 << 20));
  while (out.entries.size() < max_records && out.next < end) {
    Segment seg;
    uint64_t seg_end, next_base;
    {
      std::lock_guard<std::mutex> l(seg_mu_);
      auto it = std::upper_bound(segments_.begin(), segments_.end(), out.next,
                                 [](uint64_t p, const Segment& s) { return p < s.base; });
      if (it == segments_.begin()) {  // below the oldest segment: released, or lost
        out.skipped += it->base - out.next;
        out.next = it->base;
        continue;
      }
      seg = *(it - 1);
      bool tail = it == segments_.end();
      seg_end = tail ? end : seg.end;
      next_base = tail ? end : it->base;
    }
    if (out.next >= seg_end) {  // past this segment's frames: a gap up to the next one
      out.skipped += next_base - out.next;
      out.next = next_base;
      continue;
    }
    UniqueFd fd(::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno != ENOENT) return Errno();
      out.skipped += next_base - out.next;  // the file is gone: its bytes are missing
      out.next = next_base;
      continue;
    }
    FrameScanner scan(fd.get(), seg.base, out.next - seg.base, seg_end - seg.base, chunk);
    SpoolEntry e;
    uint64_t start, stop;
    while (out.entries.size() < max_records && scan.Next(e.record, start, stop)) {
      e.end = seg.base + stop;
      out.entries.push_back(std::move(e));
    }
    if (scan.error()) return scan.error();
    out.skipped += scan.skipped();
    out.next = seg.base + scan.offset();
    if (out.entries.size() < max_records && out.next < seg_end) {
      out.skipped += seg_end - out.next;  // the file ends before its frames should
      out.next = seg_end;
    }
  }
  return {};
}

// Called each time a consumer moves (the forwarder: per acknowledged send), so the
// common case (space freed, no whole segment passed) takes no lock.
void Spool::Release(uint64_t pos) {
  pos = std::min(pos, durable_end());
  uint64_t prev = released_.load(std::memory_order_relaxed);
  while (pos > prev && !released_.compare_exchange_weak(prev, pos, std::memory_order_release)) {
  }
  if (pos < second_base_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> rl(release_mu_);
  std::vector<std::string> done;
  {
    std::lock_guard<std::mutex> l(seg_mu_);
    // A segment can go when the next one starts at or before pos; the tail never goes.
    while (segments_.size() > 1 && segments_[1].base <= pos) {
      done.push_back(segments_.front().path);
      segments_.erase(segments_.begin());
    }
    NoteSecondBase();
  }
  if (done.empty()) return;
  for (const auto& p : done) {
    // Kept for reuse by Rotate (at most kFreeSegments); the rest are deleted.
    std::string free_path = p + kFreeSuffix;
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
