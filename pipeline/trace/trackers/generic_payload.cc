#include "pipeline/trace/trackers/generic_payload.h"

namespace tandem::trace {

void SetIfNotEmpty(nlohmann::json& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

nlohmann::json GenericPayload(const CleanEvent& e) {
  nlohmann::json context = nlohmann::json::object();
  SetIfNotEmpty(context, "ip", e.context.ip);
  SetIfNotEmpty(context, "user_agent", e.context.user_agent);
  SetIfNotEmpty(context, "locale", e.context.locale);
  SetIfNotEmpty(context, "page_url", e.context.page_url);
  SetIfNotEmpty(context, "page_path", e.context.page_path);
  SetIfNotEmpty(context, "origin", e.context.origin);
  nlohmann::json j = {{"id", e.tandem_id},          {"event", e.name},
                      {"device_id", e.device_id},   {"received_at", e.received_at_ms},
                      {"properties", e.properties}, {"context", std::move(context)}};
  if (e.user_id) j["user_id"] = *e.user_id;
  return j;
}

}  // namespace tandem::trace
