// `amplitude`: Amplitude's HTTP V2 API (POST /2/httpapi, api_key in the body, up
// to 2000 events a request, insert_id = tandem id so a resend is dropped). As
// Amplitude documents: a 400 naming events fails those and resends the rest; 413
// splits the batch; 429 pauses the throttled devices and users for 30 s (their
// events wait, or fail when the pause outlasts the event's deadline) and resends
// the others at once.
#pragma once

#include <map>

#include "pipeline/trace/http_tracker.h"

namespace tandem::trace {

class AmplitudeTracker : public HttpTracker {
 public:
  static constexpr size_t kMaxBatch = 2000;
  static constexpr std::chrono::seconds kThrottlePause{30};
  AmplitudeTracker(const TrackerConfig& config, TrackerDeps deps);
  nlohmann::json Payload(const CleanEvent& e) const override;

 protected:
  void Send(Target target, PayloadPtr payload, DeliveryDone done) override;
  http::Request BuildRequest(Target target, const Url& endpoint,
                             const std::vector<const nlohmann::json*>& batch) const override;
  BatchVerdict Judge(Target target, const http::Response& res,
                     const std::vector<const nlohmann::json*>& batch) const override;

 private:
  std::string api_key_;
  std::string staging_api_key_;
  // Devices and users Amplitude throttled, until when. Judge records them while
  // it reads a 429 (both run on the delivery thread).
  mutable std::map<std::string, std::chrono::steady_clock::time_point> paused_;
};

}  // namespace tandem::trace
