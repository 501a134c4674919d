// Trace's one thread that talks to the color's dataset (the Dataset interface
// blocks): writes `deliveries` and `rejected` rows in group batches (whatever
// queued while the previous write ran) and looks up what was already delivered
// for events the forwarder may have sent before. Callbacks run on this thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"
#include "datasets/dataset.h"
#include "pipeline/trace/trace_metrics.h"

namespace tandem::trace {

class RowWriter {
 public:
  using Written = std::function<void(const Status&)>;
  using Found = std::function<void(const Status&, std::vector<DeliveryRow>)>;

  RowWriter(Dataset& dataset, TraceMetrics& metrics);
  ~RowWriter();
  void Start();
  // Writes what is queued, then stops; later calls are answered with an error.
  void Stop();

  void Write(std::vector<DeliveryRow> deliveries, std::vector<RejectedRow> rejected, Written done);
  // The delivery rows on record for one event (vendor, outcome, status_code,
  // attempts, payload_hash filled in; payload too when `with_payload`).
  void Lookup(std::string tandem_id, bool with_payload, Found done);

 private:
  struct Job {
    std::vector<DeliveryRow> deliveries;
    std::vector<RejectedRow> rejected;
    Written written;
    std::string lookup_id;
    bool with_payload = false;
    Found found;
  };
  void Run();
  void WriteBatch(std::vector<Job>& jobs);
  void RunLookup(Job& job);
  Status WriteOnce(const std::vector<DeliveryRow>& d, const std::vector<RejectedRow>& r);

  Dataset& dataset_;
  TraceMetrics& metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  bool bootstrapped_ = false;
  std::thread thread_;
};

}  // namespace tandem::trace
