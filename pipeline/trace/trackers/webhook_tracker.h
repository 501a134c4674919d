// `webhook`: any HTTPS endpoint taking JSON. A request is {"events": [payload, ...]};
// each payload carries its tandem id in "id", the receiver's idempotency key.
#pragma once

#include "pipeline/trace/http_tracker.h"

namespace tandem::trace {

class WebhookTracker : public HttpTracker {
 public:
  static constexpr size_t kMaxBatch = 100;
  WebhookTracker(const TrackerConfig& config, TrackerDeps deps)
      : HttpTracker(config, deps, kMaxBatch) {}
  nlohmann::json Payload(const CleanEvent& e) const override;

 protected:
  http::Request BuildRequest(Target target, const Url& endpoint,
                             const std::vector<const nlohmann::json*>& batch) const override;
};

}  // namespace tandem::trace
