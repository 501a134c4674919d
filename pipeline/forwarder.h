// The forwarder: follows the spool and sends every event to the color's trace,
// with a bounded window in flight. A failed send (connection error, timeout, 5xx,
// 429) is retried with backoff until trace takes it; the checkpoint only passes
// events trace acknowledged, so a restart resends at most the window.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <thread>

#include "common/config.h"
#include "common/http_client.h"
#include "pipeline/checkpoint.h"
#include "pipeline/dispatcher_metrics.h"
#include "pipeline/spool.h"

namespace tandem::pipeline {

class Forwarder {
 public:
  Forwarder(Spool& spool, HostPort trace, Checkpoint checkpoint, DispatcherMetrics& metrics,
            size_t window = 64);
  ~Forwarder();
  void Start();
  void Stop();  // waits (bounded) for sends in flight, saves the checkpoint
  uint64_t position() const { return acked_.load(); }

 private:
  struct Slot {
    SpoolEntry entry;
    bool done = false;
    int attempts = 0;
  };
  void Pump();
  void Send(std::shared_ptr<Slot> slot);
  void Advance();

  Spool& spool_;
  Checkpoint checkpoint_;
  DispatcherMetrics& metrics_;
  size_t window_;
  boost::asio::io_context io_;
  boost::asio::steady_timer poll_timer_;
  std::shared_ptr<http::ClientPool> pool_;
  std::deque<std::shared_ptr<Slot>> inflight_;
  uint64_t next_read_ = 0;
  std::atomic<uint64_t> acked_{0};
  uint64_t saved_ = 0;
  std::chrono::steady_clock::time_point last_save_{};
  bool stopping_ = false;
  size_t sending_ = 0;
  uint64_t failures_ =
      0;  // consecutive failed sends, for the log  // HTTP requests to trace not yet answered
  std::thread thread_;
};

}  // namespace tandem::pipeline
