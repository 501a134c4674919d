// The vendor-neutral payload `capture` and `webhook` send: the clean event and
// its context, keyed by the tandem id (a receiver's idempotency key).
#pragma once

#include <nlohmann/json.hpp>

#include "pipeline/trace/event_cleaner.h"

namespace tandem::trace {

nlohmann::json GenericPayload(const CleanEvent& e);

// Sets key only when value is not empty.
void SetIfNotEmpty(nlohmann::json& j, const char* key, const std::string& value);

}  // namespace tandem::trace
