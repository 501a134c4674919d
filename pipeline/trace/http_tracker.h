// The delivery machinery every HTTPS vendor shares: per target, a queue that
// batches events (up to batch_max, waiting at most linger_ms for more), a
// keep-alive TLS pool, retries with exponential backoff and jitter that honour
// Retry-After, 413 splitting, and a per-event deadline so trace always answers
// the forwarder in time. Vendors supply the format: payload, request, verdict.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "common/http_client.h"
#include "common/url.h"
#include "pipeline/trace/linger_timer.h"
#include "pipeline/trace/tracker.h"

namespace tandem::trace {

// How long trace works on one event before recording what it has: below the
// forwarder's 10 s send timeout, so the forwarder never resends an event trace
// is still delivering.
inline constexpr std::chrono::milliseconds kDeliveryDeadline{8000};

// What a vendor's answer means for each event of the batch.
struct BatchVerdict {
  enum Fate : uint8_t { kDelivered, kRejected, kFailed, kRetry };
  std::vector<Fate> fates;          // one per event, in batch order
  std::vector<std::string> errors;  // per event; may be empty
  bool split = false;               // 413: send each half on its own
  // Events to retry only after this delay (Amplitude's throttled devices); the
  // other kRetry events go again at once.
  std::vector<bool> throttled;
  std::optional<std::chrono::milliseconds> throttle_delay;
};

class HttpTracker : public Tracker {
 public:
  HttpTracker(const TrackerConfig& config, TrackerDeps deps, size_t vendor_max_batch);
  ~HttpTracker() override;

 protected:
  // Events with different keys never share a request (GA4: one client per request).
  virtual std::string BatchKey(const nlohmann::json& payload) const { return {}; }
  virtual http::Request BuildRequest(Target target, const Url& endpoint,
                                     const std::vector<const nlohmann::json*>& batch) const = 0;
  // The default: 2xx delivered; 413 split; 408, 429, 5xx retried; other 4xx failed.
  virtual BatchVerdict Judge(Target target, const http::Response& res,
                             const std::vector<const nlohmann::json*>& batch) const;

  void Send(Target target, PayloadPtr payload, DeliveryDone done) override;

 private:
  struct Item {
    PayloadPtr payload;
    DeliveryDone done;
    int attempts = 0;
    std::chrono::steady_clock::time_point deadline;
    int last_status = 0;
    std::string last_error;
  };
  struct Channel;

  void Enqueue(Channel& ch, Item item);
  void Flush(Channel& ch);
  void SendBatch(Channel& ch, std::vector<Item> batch);
  void OnAnswer(Channel& ch, std::vector<Item> batch, boost::system::error_code ec,
                http::Response&& res, std::chrono::steady_clock::time_point started);
  void RetryLater(Channel& ch, std::vector<Item> items, std::chrono::milliseconds delay);
  void Finish(Item& item, std::string outcome);

  size_t batch_max_;
  uint64_t failures_logged_ = 0;  // failed deliveries; every 100th is logged
  std::map<Target, std::unique_ptr<Channel>> channels_;
};

// Retry-After in seconds (or an HTTP date), capped; nullopt when absent or unreadable.
std::optional<std::chrono::milliseconds> RetryAfter(const http::Response& res);

}  // namespace tandem::trace
