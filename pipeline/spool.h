// The dispatcher's durable spool: an append-only log of segment files.
//
// Appends are group-committed (one write and one fdatasync for everything that
// queued meanwhile) on a writer thread; an append is acknowledged only once its
// bytes are on disk. Readers (loader, forwarder) follow behind at their own
// positions; Release() tells the spool both have passed a position, which frees
// that much of `max_bytes` at once and lets whole segments go.
//
// Positions are byte offsets in one sequence that only grows: a segment file is
// named after the position of its first byte. They may have gaps (a lost
// segment, a spool restarted ahead at its consumers' checkpoints); a read across
// a gap or a corrupt frame skips it, reports the bytes skipped, and goes on.
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

#include "pipeline/spool_frame.h"

namespace tandem::pipeline {

struct SpoolOptions {
  std::string dir;
  uint64_t max_bytes = 8ull << 30;  // unconsumed bytes; beyond it appends fail (503)
  uint64_t segment_bytes = 0;       // 0: SegmentBytesFor(max_bytes)
  // The highest position a consumer has reached (its checkpoint). A spool that
  // ends before it (segments lost or cut) starts a new segment there, so nothing
  // appended from now on is ever below a consumer's checkpoint.
  uint64_t resume_at = 0;
  // Called on the writer thread after each group commit: records, seconds in write+fdatasync.
  std::function<void(size_t, double)> on_commit;
};

// Segment size for a spool of `max_bytes`: an eighth of it, 64 KiB to 64 MiB, so
// a spool of any size frees space in steps well below its limit.
uint64_t SegmentBytesFor(uint64_t max_bytes);

// What opening the spool found.
struct SpoolRecovery {
  size_t segments = 0;
  uint64_t torn_bytes = 0;     // cut off the tail: a write that never completed (never acked)
  uint64_t corrupt_bytes = 0;  // inside the tail and kept: readers skip them, frames after stay
  uint64_t missing_bytes = 0;  // the spool ended this far before resume_at (checkpoints ahead)
};

struct SpoolEntry {
  SpoolRecord record;
  uint64_t end;  // position just after this record
};

struct ReadBatch {
  std::vector<SpoolEntry> entries;
  uint64_t next = 0;     // where the next read starts
  uint64_t skipped = 0;  // bytes passed over that held no valid frame (corrupt or missing)
};

class Spool {
 public:
  // Opens or creates the spool, cutting off a torn tail. Throws on I/O errors (startup).
  explicit Spool(SpoolOptions options);
  ~Spool();

  const SpoolRecovery& recovery() const { return recovery_; }

  using Done = std::function<void(std::error_code)>;
  // Queues an encoded frame; `done` runs on the writer thread once it is durable,
  // or at once with no_space_on_device when the spool is full.
  void Append(std::string frame, Done done);

  uint64_t start() const;  // oldest position still on disk
  uint64_t durable_end() const { return durable_end_.load(std::memory_order_acquire); }
  // Bytes appended that the consumers have not both passed (what max_bytes bounds).
  uint64_t bytes() const {
    uint64_t released =
        released_.load(std::memory_order_acquire);  // first: it never passes the end
    return durable_end() - released;
  }
  size_t segments() const;
  void set_max_bytes(uint64_t max_bytes) { max_bytes_ = max_bytes; }

  // Waits until something is durable beyond `pos` (or timeout / Stop); returns durable_end().
  uint64_t WaitBeyond(uint64_t pos, std::chrono::milliseconds timeout);
  // Up to `max_records` records from `pos`, which should be a record boundary (a
  // position that is not gets its bytes up to the next frame skipped).
  std::error_code Read(uint64_t pos, size_t max_records, ReadBatch& out) const;
  // Every consumer has passed `pos`: its bytes no longer count against
  // max_bytes, and segments that end at or before it are recycled or deleted.
  // May block on the file system; never call it from the acking threads.
  void Release(uint64_t pos);
  // Stops the writer after draining the queue; wakes waiting readers.
  void Stop();

 private:
  struct Segment {
    uint64_t base;
    uint64_t end;  // where its frames end; the tail's is durable_end_
    std::string path;
  };
  struct Pending {
    std::string frame;
    Done done;
  };
  void Open();
  void OpenTail();
  void StartSegmentAt(uint64_t base);
  void WriterLoop();
  std::error_code WriteBatch(std::vector<Pending>& batch, size_t bytes);
  bool Rotate();
  void DropFreeFiles();
  std::string PathFor(uint64_t base) const;
  void NoteSecondBase();  // with seg_mu_ held (or before the writer starts)

  SpoolOptions opts_;
  uint64_t segment_bytes_;
  std::atomic<uint64_t> max_bytes_;
  SpoolRecovery recovery_;

  mutable std::mutex seg_mu_;
  std::vector<Segment> segments_;
  static constexpr size_t kFreeSegments = 2;
  std::deque<std::string> free_;  // consumed segment files kept for reuse
  std::mutex release_mu_;         // one Release at a time

  // Writer-thread state.
  int tail_fd_ = -1;
  uint64_t tail_size_ = 0;
  bool rotate_wanted_ = false;  // after a failed write: the next batch starts a new file
  std::chrono::steady_clock::time_point rotate_failed_at_{};

  std::atomic<uint64_t> durable_end_{0};
  std::atomic<uint64_t> released_{0};
  // The base of the second segment (UINT64_MAX when there is one): Release has
  // files to let go only once a position reaches it.
  std::atomic<uint64_t> second_base_{UINT64_MAX};
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
