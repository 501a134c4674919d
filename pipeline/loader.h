// The loader: follows the spool and writes `raw` rows to the color's dataset in
// batches, retrying with backoff and jitter while the dataset is down (and
// creating its tables again first: a bootstrap that failed at start, or tables
// dropped since, heal on their own). Rows the dataset refuses for good go to the
// dead-letter file, so one bad row never blocks the rows behind it. Its
// checkpoint moves only after a batch is stored or parked; rows are idempotent.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "datasets/dataset.h"
#include "pipeline/checkpoint.h"
#include "pipeline/dead_letter.h"
#include "pipeline/dispatcher_metrics.h"
#include "pipeline/spool.h"

namespace tandem::pipeline {

class Loader {
 public:
  // `on_advance` runs on the loader's thread each time its position moves.
  Loader(Spool& spool, Dataset& dataset, Checkpoint checkpoint, DeadLetter& dead_letter,
         DispatcherMetrics& metrics, std::function<void()> on_advance = nullptr,
         size_t batch = 500);
  ~Loader();
  void Start();
  void Stop();  // finishes the batch in hand, saves the checkpoint
  uint64_t position() const { return pos_.load(); }

 private:
  void Run();
  // Stores the batch's rows (or parks those refused for good); false to retry it.
  bool Store(ReadBatch& batch, int failures);
  bool SleepFor(std::chrono::milliseconds d);  // false when stopping

  Spool& spool_;
  Dataset& dataset_;
  Checkpoint checkpoint_;
  DeadLetter& dead_letter_;
  DispatcherMetrics& metrics_;
  std::function<void()> on_advance_;
  size_t batch_;
  bool bootstrapped_ = false;
  std::atomic<uint64_t> pos_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace tandem::pipeline
