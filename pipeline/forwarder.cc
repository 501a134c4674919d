#include "pipeline/forwarder.h"

#include <boost/asio/post.hpp>

#include "common/log.h"
#include "pipeline/loader.h"

namespace tandem::pipeline {
namespace {
constexpr auto kSendTimeout = std::chrono::seconds(10);
constexpr auto kIdlePoll = std::chrono::milliseconds(5);
constexpr auto kSaveEvery = std::chrono::seconds(1);
}  // namespace

Forwarder::Forwarder(Spool& spool, HostPort trace, Checkpoint checkpoint,
                     DispatcherMetrics& metrics, size_t window)
    : spool_(spool),
      checkpoint_(std::move(checkpoint)),
      metrics_(metrics),
      window_(window),
      poll_timer_(io_) {
  pool_ = http::ClientPool::Create(io_, http::Upstream::Of(trace));
  next_read_ = std::max(checkpoint_.Load(), spool_.start());
  acked_ = saved_ = next_read_;
}

Forwarder::~Forwarder() { Stop(); }

void Forwarder::Start() {
  boost::asio::post(io_, [this] { Pump(); });
  thread_ = std::thread([this] { io_.run(); });
}

void Forwarder::Stop() {
  if (!thread_.joinable()) return;
  boost::asio::post(io_, [this] {
    stopping_ = true;
    poll_timer_.cancel();
    if (sending_ == 0) io_.stop();
  });
  // Sends in flight finish within their timeout; never wait longer than that.
  std::thread watchdog([this] {
    auto deadline = std::chrono::steady_clock::now() + kSendTimeout + std::chrono::seconds(1);
    while (!io_.stopped() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    io_.stop();
  });
  thread_.join();
  watchdog.join();
  if (acked_ != saved_) {
    if (auto ec = checkpoint_.Save(acked_))
      log::Error("cannot save the forwarder checkpoint", {{"error", ec.message()}});
  }
}

void Forwarder::Pump() {
  if (stopping_) return;
  // Refill in halves of the window, so a backlog is read in batches, not a record
  // per completed send.
  if (inflight_.size() <= window_ / 2 && spool_.durable_end() > next_read_) {
    std::vector<SpoolEntry> entries;
    if (auto ec = spool_.Read(next_read_, window_ - inflight_.size(), entries)) {
      log::Error("forwarder cannot read the spool", {{"error", ec.message()}});
    }
    for (auto& e : entries) {
      auto slot = std::make_shared<Slot>();
      next_read_ = e.end;
      slot->entry = std::move(e);
      inflight_.push_back(slot);
      Send(slot);
    }
  }
  if (inflight_.size() < window_) {
    // Caught up: look again shortly (the spool's writer is on another thread).
    poll_timer_.expires_after(kIdlePoll);
    poll_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Pump();
    });
  }
}

void Forwarder::Send(std::shared_ptr<Slot> slot) {
  const SpoolRecord& r = slot->entry.record;
  http::Request req{http::Verb::post, "/v1/events", 11};
  for (const auto& [k, v] : r.headers) req.insert(k, v);
  req.set("X-Tandem-Id", r.tandem_id);
  req.set("X-Tandem-Received-At", std::to_string(r.received_at_ms));
  req.set("X-Tandem-Role", r.role);
  req.body() = r.body;
  ++slot->attempts;
  ++sending_;
  pool_->Send(std::move(req), kSendTimeout,
              [this, slot](boost::system::error_code ec, http::Response&& res) {
                --sending_;
                unsigned code = ec ? 0 : res.result_int();
                if (!ec && code >= 200 && code < 300) {
                  metrics_.forwarded_ok.Increment();
                  if (failures_ > 0)
                    log::Info("trace back; forwarding resumed", {{"failed_attempts", failures_}});
                  failures_ = 0;
                } else if (!ec && code >= 400 && code < 500 && code != 429) {
                  // Trace refused the request itself; sending it again would get the same answer.
                  metrics_.forward_dropped.Increment();
                  log::Error("trace refused an event; not retried",
                             {{"id", slot->entry.record.tandem_id}, {"status", code}});
                } else {
                  metrics_.forward_retries.Increment();
                  if (failures_++ % 100 == 0) {
                    log::Warn("trace unavailable; will retry",
                              {{"error", ec ? ec.message() : "status " + std::to_string(code)},
                               {"attempt", slot->attempts}});
                  }
                  if (stopping_) return Advance();  // left for the next run, past the checkpoint
                  auto timer =
                      std::make_shared<boost::asio::steady_timer>(io_, Backoff(slot->attempts - 1));
                  timer->async_wait([this, slot, timer](boost::system::error_code) {
                    if (stopping_) return Advance();
                    Send(slot);
                  });
                  return;
                }
                slot->done = true;
                Advance();
              });
}

// Moves the acknowledged position past every finished event at the front.
void Forwarder::Advance() {
  while (!inflight_.empty() && inflight_.front()->done) {
    acked_ = inflight_.front()->entry.end;
    inflight_.pop_front();
  }
  auto now = std::chrono::steady_clock::now();
  if (acked_ != saved_ && now - last_save_ >= kSaveEvery) {
    if (auto ec = checkpoint_.Save(acked_))
      log::Error("cannot save the forwarder checkpoint", {{"error", ec.message()}});
    saved_ = acked_;
    last_save_ = now;
  }
  if (stopping_) {
    if (sending_ == 0) io_.stop();
    return;
  }
  if (inflight_.size() < window_) {
    poll_timer_.cancel();
    Pump();
  }
}

}  // namespace tandem::pipeline
