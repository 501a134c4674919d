// The dispatcher's durable spool: an append-only log of segment files.
// Appends are group-committed (one write and one fdatasync for everything that
// queued meanwhile) on a writer thread; an append is acknowledged only once its
// bytes are on disk. Readers (loader, forwarder) follow behind at their own
// positions; segments everyone has passed are deleted.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "pipeline/spool_record.h"

namespace tandem::pipeline {

struct SpoolOptions {
  std::string dir;
  uint64_t segment_bytes = 64ull << 20;
  uint64_t max_bytes = 8ull << 30;  // beyond it appends fail (the dispatcher answers 503)
  // Called on the writer thread after each group commit: records, seconds in write+fdatasync.
  std::function<void(size_t, double)> on_commit;
};

struct SpoolEntry {
  SpoolRecord record;
  uint64_t end;  // position just after this record
};

class Spool {
 public:
  // Opens or creates the spool, cutting off a torn tail. Throws on I/O errors.
  explicit Spool(SpoolOptions options);
  ~Spool();

  using Done = std::function<void(std::error_code)>;
  // Queues an encoded frame; `done` runs on the writer thread once it is durable.
  void Append(std::string frame, Done done);

  uint64_t start() const;  // oldest position still on disk
  uint64_t durable_end() const { return durable_end_.load(std::memory_order_acquire); }
  uint64_t bytes() const { return durable_end() - start(); }
  size_t segments() const;

  // Waits until something is durable beyond `pos` (or timeout / Stop); returns durable_end().
  uint64_t WaitBeyond(uint64_t pos, std::chrono::milliseconds timeout);
  // Up to `max_records` records from `pos` (a record boundary, >= start()).
  std::error_code Read(uint64_t pos, size_t max_records, std::vector<SpoolEntry>& out) const;
  // Deletes segments that end at or before `pos`.
  void Release(uint64_t pos);
  // Stops the writer after draining the queue; wakes waiting readers.
  void Stop();

 private:
  struct Segment {
    uint64_t base;
    std::string path;
  };
  struct Pending {
    std::string frame;
    Done done;
  };
  void WriterLoop();
  void OpenTail();
  void Rotate();
  std::string SegmentPath(uint64_t base) const;

  SpoolOptions opts_;
  mutable std::mutex seg_mu_;
  std::vector<Segment> segments_;
  static constexpr size_t kFreeSegments = 2;
  std::deque<std::string> free_;  // consumed segment files kept for reuse
  int tail_fd_ = -1;
  uint64_t tail_size_ = 0;

  std::atomic<uint64_t> durable_end_{0};
  std::atomic<uint64_t> queued_bytes_{0};
  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::vector<Pending> queue_;
  bool stopping_ = false;
  mutable std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::thread writer_;
};

}  // namespace tandem::pipeline
