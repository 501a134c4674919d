#include "pipeline/trace/sparrow_event.h"

namespace tandem::trace {
namespace {

using nlohmann::json;

ParsedEvent Invalid(std::string reason, std::string detail) {
  return {std::nullopt, {std::move(reason), std::move(detail)}};
}

bool ValidId(const json& v) {
  return v.is_string() && !v.get_ref<const std::string&>().empty() &&
         v.get_ref<const std::string&>().size() <= kMaxNameBytes;
}

}  // namespace

ParsedEvent ParseSparrowEvent(std::string_view body) {
  // No exceptions on the request path: parse with allow_exceptions=false and
  // check each type before reading it.
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Invalid("invalid_json", "the body is not JSON");
  if (!doc.is_object()) return Invalid("invalid_schema", "the body is not a JSON object");
  SparrowEvent e;
  auto it = doc.find("event");
  if (it == doc.end() || !ValidId(*it)) {
    return Invalid("invalid_schema", "`event` must be a non-empty string of at most 256 bytes");
  }
  e.event = it->get<std::string>();
  it = doc.find("deviceId");
  if (it == doc.end() || !ValidId(*it)) {
    return Invalid("invalid_schema", "`deviceId` must be a non-empty string of at most 256 bytes");
  }
  e.device_id = it->get<std::string>();
  it = doc.find("userId");
  if (it != doc.end() && !it->is_null()) {
    if (!ValidId(*it)) {
      return Invalid("invalid_schema", "`userId` must be a non-empty string of at most 256 bytes");
    }
    e.user_id = it->get<std::string>();
  }
  it = doc.find("properties");
  if (it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return Invalid("invalid_schema", "`properties` must be an object");
    e.properties = std::move(*it);
  }
  return {std::move(e), {}};
}

}  // namespace tandem::trace
