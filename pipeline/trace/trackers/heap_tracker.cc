#include "pipeline/trace/trackers/heap_tracker.h"

#include <ctime>

#include "pipeline/trace/trackers/vendor_request.h"

namespace tandem::trace {
namespace {

using nlohmann::json;
constexpr size_t kMaxValue = 1023;

std::string Text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string joined;
    for (const auto& item : v) {
      if (!joined.empty()) joined += "||";
      joined += Text(item);
    }
    return joined;
  }
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

json HeapValue(const json& v) {
  if (v.is_number()) return v;
  std::string s = Text(v);
  size_t n = std::min(s.size(), kMaxValue);
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

}  // namespace

std::string HeapTracker::IsoTime(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the format may print
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

json HeapTracker::Payload(const CleanEvent& e) const {
  json props = json::object();
  for (const auto& [key, value] : e.properties.items()) props[key] = HeapValue(value);
  if (!e.context.page_path.empty() && !props.contains("path")) {
    props["path"] = HeapValue(e.context.page_path);
  }
  return {{"identity", e.user_id ? *e.user_id : e.device_id},
          {"event", e.name},
          {"timestamp", IsoTime(e.received_at_ms)},
          {"properties", std::move(props)},
          {"idempotency_key", e.tandem_id}};
}

http::Request HeapTracker::BuildRequest(Target target, const Url& endpoint,
                                        const std::vector<const json*>& batch) const {
  json body = {{"app_id", settings(target).app_id}, {"events", json::array()}};
  for (const auto* p : batch) body["events"].push_back(*p);
  return JsonPost(VendorPath(endpoint, "/api/track"), body);
}

}  // namespace tandem::trace
