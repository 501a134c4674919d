#include "pipeline/loader.h"

#include <random>

#include "common/log.h"

namespace tandem::pipeline {
namespace {
constexpr uint64_t kFullBatchBytes = 64 * 1024;
constexpr auto kBatchWait = std::chrono::milliseconds(50);
constexpr auto kSaveEvery = std::chrono::seconds(1);
}  // namespace

std::chrono::milliseconds Backoff(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  int64_t cap = std::min<int64_t>(10000, 100ll << std::min(attempt, 7));
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng));
}

Loader::Loader(Spool& spool, Dataset& dataset, Checkpoint checkpoint, DispatcherMetrics& metrics,
               std::function<void(uint64_t)> after_batch, size_t batch)
    : spool_(spool),
      dataset_(dataset),
      checkpoint_(std::move(checkpoint)),
      metrics_(metrics),
      after_batch_(std::move(after_batch)),
      batch_(batch) {
  pos_ = std::max(checkpoint_.Load(), spool_.start());
}

Loader::~Loader() { Stop(); }

void Loader::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Loader::Stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Loader::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, d, [&] { return stop_.load(); });
  return !stop_;
}

void Loader::Run() {
  std::vector<SpoolEntry> entries;
  std::vector<RawRow> rows;
  int failures = 0;
  // "loader caught up" is logged when the loader goes idle at the end of the
  // spool after loading something (or at startup): once per burst, not per batch.
  bool unreported = true;
  std::chrono::steady_clock::time_point last_save{};
  uint64_t saved = pos_.load();
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
    if (auto ec = spool_.Read(pos, batch_, entries); ec || entries.empty()) {
      log::Error("loader cannot read the spool", {{"error", ec.message()}, {"position", pos}});
      if (!SleepFor(Backoff(failures++))) break;
      continue;
    }
    rows.clear();
    for (auto& e : entries)
      rows.push_back({e.record.tandem_id, e.record.received_at_ms, std::move(e.record.body)});
    if (WriteResult w = dataset_.InsertRaw(rows); !w.status.ok()) {
      metrics_.load_failures.Increment();
      if (failures == 0 || failures % 20 == 0) {
        log::Warn("dataset unavailable; will retry",
                  {{"error", w.status.message()}, {"attempt", failures + 1}});
      }
      if (!SleepFor(Backoff(failures++))) break;
      continue;
    }
    if (failures > 0) log::Info("dataset back; loading resumed", {{"failed_attempts", failures}});
    failures = 0;
    uint64_t end = entries.back().end;
    pos_ = end;
    // Rows are idempotent by tandem_id, so the checkpoint may lag a committed batch
    // (a crash then reloads a few rows, stored once); saving it at most once a
    // second keeps its fsyncs off the acks' path. Stop() saves the last position.
    if (auto now = std::chrono::steady_clock::now(); now - last_save >= kSaveEvery) {
      if (auto ec = checkpoint_.Save(end))
        log::Error("cannot save the loader checkpoint", {{"error", ec.message()}});
      last_save = now;
      saved = end;
    }
    metrics_.loaded.Increment(static_cast<double>(rows.size()));
    unreported = true;
    if (after_batch_) after_batch_(end);
  }
  if (pos_.load() != saved) {
    if (auto ec = checkpoint_.Save(pos_.load()))
      log::Error("cannot save the loader checkpoint", {{"error", ec.message()}});
  }
}

}  // namespace tandem::pipeline
