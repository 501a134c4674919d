// The Sparrow event (SPEC section 3, the seed's interface) as trace reads it:
// {"event": string, "deviceId": string, "userId"?: string, "properties"?: object}.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::trace {

struct SparrowEvent {
  std::string event;
  std::string device_id;
  std::optional<std::string> user_id;
  nlohmann::json properties = nlohmann::json::object();
};

// Why a body is not a Sparrow event: the `rejected` table's reason and a detail.
struct ParseFailure {
  std::string reason;  // invalid_json | invalid_schema
  std::string detail;
};

struct ParsedEvent {
  std::optional<SparrowEvent> event;
  ParseFailure failure;  // when !event
};

// Longest event name and id trace takes; longer is invalid_schema.
inline constexpr size_t kMaxNameBytes = 256;

// Never throws: bad input is a ParseFailure.
ParsedEvent ParseSparrowEvent(std::string_view body);

}  // namespace tandem::trace
