#include "pipeline/loader.h"

#include "common/backoff.h"
#include "common/log.h"
#include "common/wire.h"

namespace tandem::pipeline {
namespace {
constexpr uint64_t kFullBatchBytes = 64 * 1024;
constexpr auto kBatchWait = std::chrono::milliseconds(50);
constexpr auto kCheckpointEvery = std::chrono::seconds(1);
}  // namespace

Loader::Loader(Spool& spool, Dataset& dataset, Checkpoint checkpoint, DeadLetter& dead_letter,
               DispatcherMetrics& metrics, std::function<void()> on_advance, size_t batch)
    : spool_(spool),
      dataset_(dataset),
      checkpoint_(std::move(checkpoint)),
      dead_letter_(dead_letter),
      metrics_(metrics),
      on_advance_(std::move(on_advance)),
      batch_(batch) {
  pos_ = std::max(checkpoint_.Load(), spool_.start());
}

Loader::~Loader() { Stop(); }

void Loader::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Loader::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);  // so a SleepFor between its check and its wait sees it
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Loader::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, d, [&] { return stop_.load(); });
  return !stop_;
}

bool Loader::Store(ReadBatch& batch, int failures) {
  if (batch.entries.empty()) return true;
  auto unavailable = [&](const Status& st) {
    metrics_.load_failures.Increment();
    bootstrapped_ = false;  // tables may be gone: create them again before the next try
    if (failures == 0 || failures % 20 == 0) {
      log::Warn("dataset unavailable; will retry",
                {{"error", st.message()}, {"attempt", failures + 1}});
    }
    return false;
  };
  if (!bootstrapped_) {
    if (Status st = dataset_.Bootstrap(); !st.ok()) return unavailable(st);
    bootstrapped_ = true;
  }
  std::vector<RawRow> rows;
  rows.reserve(batch.entries.size());
  for (auto& e : batch.entries) {
    std::string mirror;
    for (const auto& [k, v] : e.record.headers)
      if (k == wire::kMirror) mirror = v;
    rows.push_back(
        {e.record.tandem_id, e.record.received_at_ms, std::move(e.record.body), std::move(mirror)});
  }
  WriteResult w = dataset_.InsertRaw(rows);
  if (!w.status.ok()) return unavailable(w.status);
  if (!w.refused.empty()) {
    std::vector<DeadLetterEntry> parked;
    for (const auto& r : w.refused) {
      const RawRow& row = rows[r.index];
      parked.push_back({"raw", row.tandem_id, row.received_at_ms, r.reason, row.data});
    }
    if (Status st = dead_letter_.Append(parked); !st.ok()) {
      log::Error("cannot write the dead-letter file; will retry", {{"error", st.message()}});
      return false;
    }
    metrics_.parked_dead_letter.Increment(static_cast<double>(parked.size()));
    for (const auto& p : parked) {
      log::Error("the dataset refuses a row for good; it is in the dead-letter file",
                 {{"id", p.tandem_id}, {"reason", p.reason}, {"file", dead_letter_.path()}});
    }
  }
  metrics_.loaded.Increment(static_cast<double>(rows.size() - w.refused.size()));
  return true;
}

void Loader::Run() {
  int failures = 0;
  // "loader caught up" is logged when the loader goes idle at the end of the
  // spool after loading something (or at startup): once per burst, not per batch.
  bool unreported = true;
  std::chrono::steady_clock::time_point last_save{};
  uint64_t saved = pos_.load();
  ReadBatch batch;
  if (Status st = dataset_.Bootstrap(); st.ok()) {
    bootstrapped_ = true;
  } else {
    // Not fatal: the spool keeps every event, and each load tries the bootstrap again.
    log::Warn("dataset not ready; events are spooled until it is", {{"error", st.message()}});
  }
  while (!stop_) {
    uint64_t pos = pos_.load();
    if (spool_.WaitBeyond(pos, std::chrono::milliseconds(200)) <= pos) {
      if (unreported && !stop_) log::Info("loader caught up", {{"position", pos}});
      unreported = false;
      continue;
    }
    // Fewer, larger transactions: every commit is an fsync that competes with the
    // spool's own fdatasync (the acks' latency), so wait briefly for a fuller batch.
    spool_.WaitBeyond(pos + kFullBatchBytes, kBatchWait);
    if (auto ec = spool_.Read(pos, batch_, batch); ec || batch.next == pos) {
      log::Error("loader cannot read the spool", {{"error", ec.message()}, {"position", pos}});
      if (!SleepFor(Backoff(failures++))) break;
      continue;
    }
    if (batch.skipped > 0) {
      metrics_.skipped_loader.Increment(static_cast<double>(batch.skipped));
      log::Error("spool damage: the loader skipped bytes that hold no valid event",
                 {{"from", pos}, {"to", batch.next}, {"bytes", batch.skipped}});
    }
    if (!Store(batch, failures)) {
      if (!SleepFor(Backoff(failures++))) break;
      continue;
    }
    if (failures > 0) log::Info("dataset back; loading resumed", {{"failed_attempts", failures}});
    failures = 0;
    pos_ = batch.next;
    // Rows are idempotent by tandem_id, so the checkpoint may lag a committed batch
    // (a crash then reloads a few rows, stored once); saving it at most once a
    // second keeps its fsyncs off the acks' path. Stop() saves the last position.
    if (auto now = std::chrono::steady_clock::now(); now - last_save >= kCheckpointEvery) {
      if (auto ec = checkpoint_.Save(batch.next)) {
        log::Error("cannot save the loader checkpoint", {{"error", ec.message()}});
      } else {
        saved = batch.next;
      }
      last_save = now;
    }
    unreported = true;
    if (on_advance_) on_advance_();
  }
  if (pos_.load() != saved) {
    if (auto ec = checkpoint_.Save(pos_.load())) {
      log::Error("cannot save the loader checkpoint", {{"error", ec.message()}});
    }
  }
}

}  // namespace tandem::pipeline
