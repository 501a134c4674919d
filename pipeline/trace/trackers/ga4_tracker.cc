#include "pipeline/trace/trackers/ga4_tracker.h"

#include "common/url_encode.h"
#include "pipeline/trace/trackers/vendor_request.h"

namespace tandem::trace {
namespace {

using nlohmann::json;

// GA4's documented limits: 25 params an event, values of 100 characters
// (page_location 1000, page_referrer 420, page_title 300).
constexpr size_t kMaxParams = 25;

size_t ValueLimit(const std::string& param) {
  if (param == "page_location") return 1000;
  if (param == "page_referrer") return 420;
  if (param == "page_title") return 300;
  return 100;
}

std::string Truncate(std::string s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

// Params take strings and numbers: booleans and structures travel as text.
json ParamValue(const json& v, const std::string& name) {
  if (v.is_number()) return v;
  std::string s =
      v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, json::error_handler_t::replace);
  return Truncate(std::move(s), ValueLimit(name));
}

std::string Query(const TrackerSettings& s, const std::string& tracker) {
  return "?measurement_id=" + PercentEncode(s.measurement_id) +
         "&api_secret=" + PercentEncode(Tracker::Secret(s.api_secret_env, tracker));
}

}  // namespace

Ga4Tracker::Ga4Tracker(const TrackerConfig& config, TrackerDeps deps)
    : HttpTracker(config, deps, kMaxBatch), query_(Query(config.live, config.name)) {
  if (config.candidate_mode == "staging") staging_query_ = Query(config.candidate, config.name);
}

std::string Ga4Tracker::Name(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  if (out.empty() || !((out[0] >= 'a' && out[0] <= 'z') || (out[0] >= 'A' && out[0] <= 'Z'))) {
    out = "e_" + out;
  }
  return out.substr(0, 40);
}

json Ga4Tracker::Payload(const CleanEvent& e) const {
  json params = json::object();
  for (const auto& [key, value] : e.properties.items()) {
    if (params.size() >= kMaxParams - 4) break;  // room for the params below
    std::string name = Name(key);
    params[name] = ParamValue(value, name);
  }
  if (!e.context.page_url.empty())
    params["page_location"] = ParamValue(e.context.page_url, "page_location");
  if (e.name == "pageview" && e.properties.contains("referrer")) {
    params["page_referrer"] = ParamValue(e.properties["referrer"], "page_referrer");
  }
  params["engagement_time_msec"] = 1;  // GA4 shows an event in reports only with it
  // GA4 has no idempotency key: the tandem id lets its BigQuery export drop a resend.
  params["tandem_id"] = e.tandem_id;
  json event = {{"name", e.name == "pageview" ? "page_view" : Name(e.name)},
                {"params", std::move(params)},
                {"timestamp_micros", e.received_at_ms * 1000}};
  json p = {{"client_id", e.device_id}, {"events", json::array({std::move(event)})}};
  if (e.user_id) p["user_id"] = *e.user_id;
  return p;
}

std::string Ga4Tracker::BatchKey(const json& payload) const {
  return payload.value("client_id", "") + '\n' + payload.value("user_id", "");
}

http::Request Ga4Tracker::BuildRequest(Target target, const Url& endpoint,
                                       const std::vector<const json*>& batch) const {
  // Every payload of a batch has the same client (BatchKey): merge the events.
  json body = *batch.front();
  for (size_t i = 1; i < batch.size(); ++i) body["events"].push_back((*batch[i])["events"][0]);
  std::string path = target == Target::kValidate ? "/debug/mp/collect" : "/mp/collect";
  return JsonPost(
      VendorPath(endpoint, path) + (target == Target::kStaging ? staging_query_ : query_), body);
}

BatchVerdict Ga4Tracker::Judge(Target target, const http::Response& res,
                               const std::vector<const json*>& batch) const {
  const size_t n = batch.size();
  BatchVerdict v = HttpTracker::Judge(target, res, batch);
  if (target != Target::kValidate || res.result_int() / 100 != 2) return v;
  // The validation server lists what is wrong; "events[N]..." names the event.
  json body = JsonBody(res);
  if (!body.is_object() || !body.contains("validationMessages")) return v;
  const json& messages = body["validationMessages"];
  if (!messages.is_array() || messages.empty()) return v;
  v.errors.assign(n, "");
  std::vector<bool> named(n, false);
  bool unplaced = false;
  for (const auto& m : messages) {
    std::string path = m.value("fieldPath", "");
    std::string what = m.value("validationCode", "") + ": " + m.value("description", "");
    size_t index = n;
    if (path.rfind("events[", 0) == 0) index = std::strtoul(path.c_str() + 7, nullptr, 10);
    if (index < n) {
      named[index] = true;
      v.errors[index] += what;
    } else {
      unplaced = true;
      for (auto& e : v.errors) e += what;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (unplaced || named[i]) v.fates[i] = BatchVerdict::kRejected;
  }
  return v;
}

}  // namespace tandem::trace
