#include "pipeline/trace/trackers/amplitude_tracker.h"

#include "pipeline/trace/trace_metrics.h"
#include "pipeline/trace/trackers/vendor_request.h"

namespace tandem::trace {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Event indexes a 400 or 429 body lists under `key` (a map of field -> indexes,
// or a plain list).
void Indexes(const json& body, const char* key, std::vector<bool>& out,
             std::vector<std::string>& why, const std::string& reason) {
  auto it = body.find(key);
  if (it == body.end()) return;
  auto mark = [&](const json& list, const std::string& detail) {
    if (!list.is_array()) return;
    for (const auto& i : list) {
      if (!i.is_number_unsigned() || i.get<size_t>() >= out.size()) continue;
      out[i.get<size_t>()] = true;
      why[i.get<size_t>()] = detail;
    }
  };
  if (it->is_array()) return mark(*it, reason);
  if (!it->is_object()) return;
  for (const auto& [field, list] : it->items()) mark(list, reason + ": " + field);
}

}  // namespace

AmplitudeTracker::AmplitudeTracker(const TrackerConfig& config, TrackerDeps deps)
    : HttpTracker(config, deps, kMaxBatch), api_key_(Secret(config.live.api_key_env, config.name)) {
  if (config.candidate_mode == "staging") {
    staging_api_key_ = Secret(config.candidate.api_key_env, config.name);
  }
}

json AmplitudeTracker::Payload(const CleanEvent& e) const {
  json p = {
      {"event_type", e.name},     {"device_id", e.device_id},         {"time", e.received_at_ms},
      {"insert_id", e.tandem_id}, {"event_properties", e.properties}, {"platform", "Web"}};
  if (e.user_id) p["user_id"] = *e.user_id;
  // Without "ip" Amplitude would place every user where trace runs.
  p["ip"] = e.context.ip.empty() ? "0.0.0.0" : e.context.ip;
  if (!e.context.locale.empty()) p["language"] = e.context.locale;
  if (!e.context.user_agent.empty()) p["user_agent"] = e.context.user_agent;
  return p;
}

void AmplitudeTracker::Send(Target target, PayloadPtr payload, DeliveryDone done) {
  if (!paused_.empty()) {
    auto now = Clock::now();
    std::erase_if(paused_, [&](const auto& kv) { return kv.second <= now; });
    for (const char* id : {"device_id", "user_id"}) {
      auto it = payload->body.find(id);
      if (it == payload->body.end() || !it->is_string()) continue;
      auto p = paused_.find(it->get<std::string>());
      if (p == paused_.end()) continue;
      if (p->second - now > kDeliveryDeadline) {
        deps_.metrics.vendor(name()).deliveries.at("failed")->Increment();
        return done({"failed", 429, 0, "Amplitude throttled this device or user; paused 30 s"});
      }
      // Sent once the pause is over, within the event's deadline.
      auto timer = std::make_shared<boost::asio::steady_timer>(deps_.io, p->second);
      return timer->async_wait([this, timer, target, payload,
                                done = std::move(done)](boost::system::error_code) mutable {
        HttpTracker::Send(target, std::move(payload), std::move(done));
      });
    }
  }
  HttpTracker::Send(target, std::move(payload), std::move(done));
}

http::Request AmplitudeTracker::BuildRequest(Target target, const Url& endpoint,
                                             const std::vector<const json*>& batch) const {
  json body = {{"api_key", target == Target::kStaging ? staging_api_key_ : api_key_},
               {"events", json::array()}};
  for (const auto* p : batch) body["events"].push_back(*p);
  return JsonPost(VendorPath(endpoint, "/2/httpapi"), body);
}

BatchVerdict AmplitudeTracker::Judge(Target target, const http::Response& res,
                                     const std::vector<const json*>& batch) const {
  const size_t n = batch.size();
  BatchVerdict v = HttpTracker::Judge(target, res, batch);
  unsigned code = res.result_int();
  if (code != 400 && code != 429) return v;
  json body = JsonBody(res);
  if (!body.is_object()) return v;
  std::vector<bool> listed(n, false);
  v.errors.assign(n, "");
  if (code == 400) {
    // Fail the events Amplitude names, resend the rest; none named: all failed.
    Indexes(body, "events_with_invalid_fields", listed, v.errors, "invalid field");
    Indexes(body, "events_with_missing_fields", listed, v.errors, "missing field");
    Indexes(body, "events_with_invalid_id_lengths", listed, v.errors, "invalid id length");
    Indexes(body, "silenced_events", listed, v.errors, "device silenced");
    if (std::find(listed.begin(), listed.end(), true) == listed.end()) return v;
    for (size_t i = 0; i < n; ++i)
      v.fates[i] = listed[i] ? BatchVerdict::kFailed : BatchVerdict::kRetry;
    return v;
  }
  // 429: pause the throttled devices and users; their events wait 30 s.
  auto until = Clock::now() + kThrottlePause;
  for (const char* key : {"throttled_devices", "throttled_users", "exceeded_daily_quota_devices",
                          "exceeded_daily_quota_users"}) {
    auto it = body.find(key);
    if (it == body.end() || !it->is_object()) continue;
    for (const auto& [id, rate] : it->items()) paused_[id] = until;
  }
  v.throttled.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    for (const char* id : {"device_id", "user_id"}) {
      auto f = batch[i]->find(id);
      if (f != batch[i]->end() && f->is_string() && paused_.count(f->get<std::string>())) {
        v.throttled[i] = true;
      }
    }
  }
  Indexes(body, "throttled_events", v.throttled, v.errors, "throttled");
  v.throttle_delay =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::seconds(kThrottlePause));
  return v;
}

}  // namespace tandem::trace
