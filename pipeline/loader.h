// The loader: follows the spool and writes `raw` rows to the color's dataset in
// batches, retrying with backoff and jitter while the dataset is down. Its
// checkpoint moves only after a batch is committed; rows are idempotent by id.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "datasets/dataset.h"
#include "pipeline/checkpoint.h"
#include "pipeline/dispatcher_metrics.h"
#include "pipeline/spool.h"

namespace tandem::pipeline {

class Loader {
 public:
  // `after_batch(position)` runs on the loader's thread after each committed batch.
  Loader(Spool& spool, Dataset& dataset, Checkpoint checkpoint, DispatcherMetrics& metrics,
         std::function<void(uint64_t)> after_batch = nullptr, size_t batch = 500);
  ~Loader();
  void Start();
  void Stop();  // finishes the batch in hand
  uint64_t position() const { return pos_.load(); }

 private:
  void Run();
  bool SleepFor(std::chrono::milliseconds d);  // false when stopping

  Spool& spool_;
  Dataset& dataset_;
  Checkpoint checkpoint_;
  DispatcherMetrics& metrics_;
  std::function<void(uint64_t)> after_batch_;
  size_t batch_;
  std::atomic<uint64_t> pos_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

// Exponential backoff with full jitter, from 100 ms to 10 s.
std::chrono::milliseconds Backoff(int attempt);

}  // namespace tandem::pipeline
