// `ga4`: Google Analytics 4 Measurement Protocol. POST /mp/collect with
// measurement_id and api_secret in the query; one client (client_id, user_id)
// per request, at most 25 events. GA4 answers 2xx to anything it receives, so the
// candidate role validates on /debug/mp/collect and turns validationMessages
// into `rejected` deliveries.
#pragma once

#include "pipeline/trace/http_tracker.h"

namespace tandem::trace {

class Ga4Tracker : public HttpTracker {
 public:
  static constexpr size_t kMaxBatch = 25;
  Ga4Tracker(const TrackerConfig& config, TrackerDeps deps);
  nlohmann::json Payload(const CleanEvent& e) const override;

  // GA4's naming rule: [A-Za-z0-9_], starting with a letter, at most 40 characters.
  static std::string Name(std::string_view s);

 protected:
  std::string BatchKey(const nlohmann::json& payload) const override;
  http::Request BuildRequest(Target target, const Url& endpoint,
                             const std::vector<const nlohmann::json*>& batch) const override;
  BatchVerdict Judge(Target target, const http::Response& res,
                     const std::vector<const nlohmann::json*>& batch) const override;

 private:
  std::string query_;  // ?measurement_id=..&api_secret=.. for the live settings
  std::string staging_query_;
};

}  // namespace tandem::trace
