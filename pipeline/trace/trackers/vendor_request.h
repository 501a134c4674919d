// Small helpers the vendor formats share.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/http_types.h"
#include "common/url.h"

namespace tandem::trace {

// POST `target` with `body` as JSON (invalid UTF-8 replaced, never thrown on).
http::Request JsonPost(const std::string& target, const nlohmann::json& body);

// The endpoint's own path (if any) followed by the vendor's `path`.
std::string VendorPath(const Url& endpoint, std::string_view path);

// The response body as JSON, or a discarded value when it is not JSON.
nlohmann::json JsonBody(const http::Response& res);

}  // namespace tandem::trace
