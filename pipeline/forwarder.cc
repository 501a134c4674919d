#include "pipeline/forwarder.h"

#include <boost/asio/post.hpp>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/event_batch.h"
#include "common/log.h"
#include "common/wire.h"

namespace tandem::pipeline {
namespace {
constexpr auto kSendTimeout = std::chrono::seconds(10);
constexpr auto kIdlePoll = std::chrono::milliseconds(5);
constexpr auto kSaveEvery = std::chrono::seconds(1);
// A batch to trace: at most this many events, and this many body bytes unless it
// is one event alone. Several batches stay in flight within the window.
constexpr size_t kMaxBatchEvents = 64;
constexpr size_t kMaxBatchBytes = 1 << 20;

// 4xx answers other than these may mean trace refuses this event for good.
bool Retryable(unsigned code) { return code == 408 || code == 429 || code >= 500 || code < 400; }
}  // namespace

Forwarder::Forwarder(Spool& spool, HostPort trace, Checkpoint checkpoint, Dataset& dataset,
                     DeadLetter& dead_letter, DispatcherMetrics& metrics,
                     std::function<void()> on_advance, size_t window)
    : spool_(spool),
      checkpoint_(std::move(checkpoint)),
      dataset_(dataset),
      dead_letter_(dead_letter),
      metrics_(metrics),
      on_advance_(std::move(on_advance)),
      window_(window),
      poll_timer_(io_) {
  pool_ = http::ClientPool::Create(io_, http::Upstream::Of(trace));
  next_read_ = std::max(checkpoint_.Load(), spool_.start());
  acked_ = saved_ = next_read_;
}

Forwarder::~Forwarder() { Stop(); }

void Forwarder::Start() {
  // Whatever is in the spool now may have reached trace in an earlier run (the
  // checkpoint lags the sends): such events are marked as redeliveries.
  seen_before_ = spool_.durable_end();
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
    while (!io_.stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    io_.stop();
  });
  thread_.join();
  watchdog.join();
  if (acked_ != saved_) {
    if (auto ec = checkpoint_.Save(acked_)) {
      log::Error("cannot save the forwarder checkpoint", {{"error", ec.message()}});
    }
  }
}

void Forwarder::Pump() {
  if (stopping_) return;
  // Refill in halves of the window, so a backlog is read in batches, not a record
  // per completed send.
  if (inflight_.size() <= window_ / 2 && spool_.durable_end() > next_read_) {
    ReadBatch batch;
    uint64_t from = next_read_;
    if (auto ec = spool_.Read(next_read_, window_ - inflight_.size(), batch)) {
      if (read_failures_ % 20 == 0) {
        log::Error("forwarder cannot read the spool; will retry",
                   {{"error", ec.message()}, {"position", from}});
      }
      // Look again after a backoff, not at the idle poll's pace.
      poll_timer_.expires_after(Backoff(static_cast<int>(read_failures_++)));
      poll_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) Pump();
      });
      return;
    } else {
      read_failures_ = 0;
      if (batch.skipped > 0) {
        metrics_.skipped_forwarder.Increment(static_cast<double>(batch.skipped));
        log::Error("spool damage: the forwarder skipped bytes that hold no valid event",
                   {{"from", from}, {"to", batch.next}, {"bytes", batch.skipped}});
      }
      std::vector<std::shared_ptr<Slot>> fresh;
      for (auto& e : batch.entries) {
        fresh.push_back(std::make_shared<Slot>());
        fresh.back()->entry = std::move(e);
      }
      if (fresh.empty() && batch.next > from) {
        // Only skipped bytes: a finished placeholder carries the position past them.
        fresh.push_back(std::make_shared<Slot>());
        fresh.back()->done = true;
      }
      // The last one also covers bytes skipped after it.
      if (!fresh.empty()) fresh.back()->entry.end = std::max(fresh.back()->entry.end, batch.next);
      next_read_ = batch.next;
      for (auto& slot : fresh) {
        inflight_.push_back(slot);
        if (!slot->done) Send(slot);
      }
      MoveAcked();
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
  to_send_.push_back(std::move(slot));
  if (flush_posted_) return;
  // Everything queued in this turn of the loop goes out together.
  flush_posted_ = true;
  boost::asio::post(io_, [this] {
    flush_posted_ = false;
    Flush();
  });
}

void Forwarder::Flush() {
  if (stopping_) {
    // Left for the next run, past the checkpoint.
    to_send_.clear();
    if (sending_ == 0) io_.stop();
    return;
  }
  size_t i = 0;
  while (i < to_send_.size()) {
    std::vector<std::shared_ptr<Slot>> batch{to_send_[i++]};
    size_t bytes = batch[0]->entry.record.body.size();
    // A resend goes alone, so that its answer (or a timeout, or trace crashing)
    // is about that event only and never counts against the ones sent with it.
    while (batch[0]->attempts == 0 && i < to_send_.size() && to_send_[i]->attempts == 0 &&
           batch.size() < kMaxBatchEvents &&
           bytes + to_send_[i]->entry.record.body.size() <= kMaxBatchBytes) {
      bytes += to_send_[i]->entry.record.body.size();
      batch.push_back(to_send_[i++]);
    }
    SendBatch(std::move(batch));
  }
  to_send_.clear();
}

void Forwarder::SendBatch(std::vector<std::shared_ptr<Slot>> batch) {
  http::Request req{http::Verb::post, std::string(wire::kEventBatchPath), 11};
  req.set(http::Field::content_type, wire::kEventBatchType);
  std::string body;
  std::vector<BatchHeader> headers;
  std::vector<std::shared_ptr<Slot>> sent;
  for (const auto& slot : batch) {
    const SpoolRecord& r = slot->entry.record;
    headers.clear();
    for (const auto& [k, v] : r.headers) {
      // raw.mirror is the loader's; trace builds nothing from it.
      if (k != wire::kMirror) headers.emplace_back(k, v);
    }
    std::string at = std::to_string(r.received_at_ms);
    headers.emplace_back(wire::kTandemId, r.tandem_id);
    headers.emplace_back(wire::kReceivedAt, at);
    headers.emplace_back(wire::kRole, r.role);
    // Trace looks up what it already did for an event only when it may have seen it.
    if (slot->attempts > 0 || slot->entry.end <= seen_before_) {
      headers.emplace_back(wire::kRedelivery, "1");
    }
    if (!AppendBatchedEvent(body, headers, r.body)) {
      // Cannot happen with the headers the dispatcher keeps; never block on it.
      boost::asio::post(
          io_, [this, slot] { Park(slot, "its headers do not fit trace's batch format"); });
      continue;
    }
    if (++slot->attempts == 1) slot->oks_at_first_send = slot->oks_at_last_failure = oks_;
    sent.push_back(slot);
  }
  if (sent.empty()) return;
  req.body() = std::move(body);
  ++sending_;
  pool_->Send(
      std::move(req), kSendTimeout,
      [this, sent = std::move(sent)](boost::system::error_code ec, http::Response&& res) mutable {
        --sending_;
        OnAnswer(sent, ec, res);
      });
}

void Forwarder::OnAnswer(const std::vector<std::shared_ptr<Slot>>& batch,
                         boost::system::error_code ec, const http::Response& res) {
  unsigned code = ec ? 0 : res.result_int();
  std::vector<unsigned> statuses;
  if (!ec && code >= 200 && code < 300 && !ParseBatchAnswer(res.body(), batch.size(), statuses)) {
    // Not trace's answer (another service on trace_listen, or a broken one):
    // like no answer, the events wait.
    ec = boost::asio::error::invalid_argument;
    code = 0;
    if (failures_ % 100 == 0) {
      log::Warn("trace's answer to a batch is not one status per event; will retry",
                {{"events", batch.size()}, {"status", res.result_int()}});
    }
  }
  // An answer to the whole request (no answer, a timeout, one status for all) is
  // about one event only when it was sent alone.
  const bool per_event = statuses.size() == batch.size() || batch.size() == 1;
  if (statuses.size() != batch.size()) statuses.assign(batch.size(), code);
  // Successes first: a failure beside them is then known to be about its event.
  for (size_t i = 0; i < batch.size(); ++i) {
    if (statuses[i] < 200 || statuses[i] >= 300) continue;
    ++oks_;
    metrics_.forwarded_ok.Increment();
    if (failures_ > 0) {
      log::Info("trace back; forwarding resumed", {{"failed_attempts", failures_}});
    }
    failures_ = 0;
    batch[i]->done = true;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (statuses[i] < 200 || statuses[i] >= 300) OnFailure(batch[i], ec, statuses[i], per_event);
  }
  Advance();
}

void Forwarder::OnFailure(const std::shared_ptr<Slot>& slot, boost::system::error_code ec,
                          unsigned code, bool about_event) {
  std::string why = ec ? ec.message() : "status " + std::to_string(code);
  // Trace takes other events (sent with or after this one) but not this one.
  // Only then is a refusal about the event; when everything is refused or
  // fails (trace down, a wrong trace_listen answering 404) the event waits.
  const bool others_since_first = oks_ > slot->oks_at_first_send;
  const bool others_since_last = oks_ > slot->oks_at_last_failure;
  slot->oks_at_last_failure = oks_;
  // A batch that failed as a whole says nothing about any one of its events:
  // each is resent alone, where its answer is its own, and only that counts.
  if (about_event) {
    if (!ec && !Retryable(code) && others_since_first) {
      return Park(slot, "trace answered " + why);
    }
    // A failure counts toward the budget only when it may be about this
    // event: trace answered it (not a gateway's "not now"), or others went
    // through since its last failure. An event caught by a trace crash fails
    // on every resend while trace restarts, however long that takes, and
    // must wait, not be parked.
    // A "not now" answer (408, 429, a gateway's 502-504) is like no answer.
    const bool answered = !ec && Retryable(code) && code != 408 && code != 429 && code != 502 &&
                          code != 503 && code != 504;
    // The first answer counts even before anything else went through (the
    // poison event may be the first one sent); later ones only once others
    // flow, so failures during a trace outage do not pile up against events
    // that then fail once after trace is back.
    if (others_since_last || (answered && (others_since_first || slot->attempts == 1))) {
      ++slot->counted_failures;
    }
    if (slot->counted_failures >= kRetryBudget && others_since_first) {
      return Park(slot, "failed " + std::to_string(slot->counted_failures) +
                            " times while trace took other events; last: " + why);
    }
  }
  metrics_.forward_retries.Increment();
  if (failures_++ % 100 == 0) {
    log::Warn("trace unavailable; will retry", {{"error", why}, {"attempt", slot->attempts}});
  }
  RetryLater(Backoff(slot->attempts - 1), [this, slot] { Send(slot); });
}

void Forwarder::RetryLater(std::chrono::milliseconds delay, std::function<void()> again) {
  if (stopping_) return Advance();  // left for the next run, past the checkpoint
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
  timer->async_wait([this, timer, again = std::move(again)](boost::system::error_code) {
    if (stopping_) return Advance();
    again();
  });
}

// Blocks the forwarder's thread for one dataset write: parked events are rare,
// and the event must be on record before the checkpoint passes it.
void Forwarder::Park(std::shared_ptr<Slot> slot, const std::string& why) {
  const SpoolRecord& r = slot->entry.record;
  WriteResult w = dataset_.InsertRejected({{r.tandem_id, "trace_refused", UnixMillis()}});
  auto again = [this, slot, why] { Park(slot, why); };
  if (!w.status.ok()) {
    if (slot->park_attempts % 20 == 0) {
      log::Warn("cannot record an event trace refused; will retry",
                {{"id", r.tandem_id}, {"error", w.status.message()}});
    }
    return RetryLater(Backoff(slot->park_attempts++), again);
  }
  if (!w.refused.empty()) {
    Status st = dead_letter_.Append({{"rejected", r.tandem_id, r.received_at_ms,
                                      "trace_refused: " + w.refused[0].reason, r.body}});
    if (!st.ok()) {
      if (slot->park_attempts % 20 == 0) {
        log::Error("cannot write the dead-letter file; will retry", {{"error", st.message()}});
      }
      return RetryLater(Backoff(slot->park_attempts++), again);
    }
    metrics_.parked_dead_letter.Increment();
  }
  metrics_.forward_refused.Increment();
  metrics_.parked_trace_refused.Increment();
  log::Error("trace refuses an event for good; recorded as rejected (trace_refused) and passed",
             {{"id", r.tandem_id}, {"detail", why}, {"attempts", slot->attempts}});
  slot->done = true;
  Advance();
}

// Moves the acknowledged position past every finished event at the front.
void Forwarder::MoveAcked() {
  uint64_t before = acked_.load();
  while (!inflight_.empty() && inflight_.front()->done) {
    acked_ = inflight_.front()->entry.end;
    inflight_.pop_front();
  }
  auto now = std::chrono::steady_clock::now();
  if (acked_ != saved_ && now - last_save_ >= kSaveEvery) {
    if (auto ec = checkpoint_.Save(acked_)) {
      log::Error("cannot save the forwarder checkpoint", {{"error", ec.message()}});
    } else {
      saved_ = acked_;
    }
    last_save_ = now;
  }
  if (acked_ != before && on_advance_) on_advance_();
}

void Forwarder::Advance() {
  MoveAcked();
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
