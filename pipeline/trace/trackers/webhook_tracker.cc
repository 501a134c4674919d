#include "pipeline/trace/trackers/webhook_tracker.h"

#include "pipeline/trace/trackers/generic_payload.h"
#include "pipeline/trace/trackers/vendor_request.h"

namespace tandem::trace {

nlohmann::json WebhookTracker::Payload(const CleanEvent& e) const { return GenericPayload(e); }

http::Request WebhookTracker::BuildRequest(Target, const Url& endpoint,
                                           const std::vector<const nlohmann::json*>& batch) const {
  nlohmann::json body = {{"events", nlohmann::json::array()}};
  for (const auto* p : batch) body["events"].push_back(*p);
  return JsonPost(endpoint.target, body);
}

}  // namespace tandem::trace
