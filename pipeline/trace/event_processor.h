// One event's way through trace: clean it (validate, allowlist, scrub, context),
// build each tracker's payload and its hash, look up what was already done when
// the forwarder says it may have sent the event before, deliver to every
// tracker, write the `deliveries` (or `rejected`) rows, and only then answer, so
// the forwarder's checkpoint never passes an event whose rows are not stored.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/http_types.h"
#include "pipeline/trace/event_cleaner.h"
#include "pipeline/trace/row_writer.h"
#include "pipeline/trace/tracker.h"

namespace tandem::trace {

class EventProcessor {
 public:
  // Called once, from the delivery or the writer thread.
  using Answer = std::function<void(http::Status, std::string body)>;

  EventProcessor(const PipelineConfig& config, boost::asio::io_context& delivery_io,
                 const std::vector<TrackerPtr>& trackers, RowWriter& writer, TraceMetrics& metrics);

  // How the event came: from the forwarder (maybe again), or from `tandem
  // backfill` for every tracker ("*") or one.
  struct Origin {
    bool redelivery = false;
    std::optional<std::string> backfill;
  };
  // Thread-safe; the cleaning and payload building run on the caller's thread.
  void Process(StampedEvent in, const Origin& origin, Answer answer);
  // SIGHUP: a new allowlist and scrub rules, for events from now on. Thread-safe.
  void Reload(const PipelineConfig& config);

 private:
  struct Job;
  void Dispatch(const std::shared_ptr<Job>& job, const std::vector<DeliveryRow>& on_record);
  void Complete(const std::shared_ptr<Job>& job);
  static void UseRecordedPayload(Job& job, size_t i, const std::string& text);

  std::shared_ptr<const EventCleaner> cleaner() const;

  mutable std::mutex mu_;
  std::shared_ptr<const EventCleaner> cleaner_;  // swapped whole on reload
  bool record_payloads_;
  boost::asio::io_context& delivery_io_;
  const std::vector<TrackerPtr>& trackers_;
  RowWriter& writer_;
  TraceMetrics& metrics_;
};

}  // namespace tandem::trace
