// The forwarder: follows the spool and sends every event to the color's trace,
// in batches (common/event_batch.h) answered per event, with a bounded window
// in flight. A failed send (connection error, timeout,
// 5xx, 408, 429) is retried with backoff until trace takes it. An event trace
// refuses for good (another 4xx, or failures past the retry budget, while trace
// takes other events) gets a `rejected` row with reason trace_refused and is
// passed, so one event never blocks the ones behind it. The checkpoint only
// passes events trace acknowledged or that were parked, so a restart resends at
// most the window.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "common/host_port.h"
#include "common/http_client.h"
#include "datasets/dataset.h"
#include "pipeline/checkpoint.h"
#include "pipeline/dead_letter.h"
#include "pipeline/dispatcher_metrics.h"
#include "pipeline/spool.h"

namespace tandem::pipeline {

class Forwarder {
 public:
  // Failed sends of one event, while trace takes others, before it is parked.
  static constexpr int kRetryBudget = 8;

  // `on_advance` runs on the forwarder's thread each time its position moves.
  Forwarder(Spool& spool, HostPort trace, Checkpoint checkpoint, Dataset& dataset,
            DeadLetter& dead_letter, DispatcherMetrics& metrics,
            std::function<void()> on_advance = nullptr, size_t window = 256);
  ~Forwarder();
  void Start();
  void Stop();  // waits (bounded) for sends in flight, saves the checkpoint
  uint64_t position() const { return acked_.load(); }

 private:
  struct Slot {
    SpoolEntry entry;
    bool done = false;
    int attempts = 0;
    uint64_t oks_at_first_send = 0;    // oks_ when it was first sent
    uint64_t oks_at_last_failure = 0;  // oks_ when its last send failed
    int counted_failures = 0;          // failures that count toward kRetryBudget
    int park_attempts = 0;             // failed tries to record it as trace_refused
  };
  void Pump();
  void Send(std::shared_ptr<Slot> slot);  // queues it for the next Flush
  void Flush();                           // sends what is queued, in batches
  void SendBatch(std::vector<std::shared_ptr<Slot>> batch);
  void OnAnswer(const std::vector<std::shared_ptr<Slot>>& batch, boost::system::error_code ec,
                const http::Response& res);
  // Retries the event later, or parks it once it is known to be refused.
  // `about_event`: the failure is this event's own (its status, or it was sent alone).
  void OnFailure(const std::shared_ptr<Slot>& slot, boost::system::error_code ec, unsigned code,
                 bool about_event);
  void RetryLater(std::chrono::milliseconds delay, std::function<void()> again);
  // Records the event as refused by trace (a `rejected` row) and passes it.
  void Park(std::shared_ptr<Slot> slot, const std::string& why);
  void MoveAcked();  // passes finished events at the front; saves the checkpoint
  void Advance();    // MoveAcked, then refills the window

  Spool& spool_;
  Checkpoint checkpoint_;
  Dataset& dataset_;
  DeadLetter& dead_letter_;
  DispatcherMetrics& metrics_;
  std::function<void()> on_advance_;
  size_t window_;
  boost::asio::io_context io_;
  boost::asio::steady_timer poll_timer_;
  std::shared_ptr<http::ClientPool> pool_;
  std::deque<std::shared_ptr<Slot>> inflight_;
  std::vector<std::shared_ptr<Slot>> to_send_;
  bool flush_posted_ = false;
  uint64_t next_read_ = 0;
  uint64_t seen_before_ = 0;  // spool end at Start(): events before it may have reached trace
  std::atomic<uint64_t> acked_{0};
  uint64_t saved_ = 0;
  std::chrono::steady_clock::time_point last_save_{};
  bool stopping_ = false;
  size_t sending_ = 0;          // HTTP requests to trace not yet answered
  uint64_t oks_ = 0;            // events trace took, ever
  uint64_t failures_ = 0;       // consecutive failed sends, for the log
  uint64_t read_failures_ = 0;  // consecutive failed spool reads
  std::thread thread_;
};

}  // namespace tandem::pipeline
