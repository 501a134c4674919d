#include "common/http_types.h"

#include <nlohmann/json.hpp>

namespace tandem::http {

Response MakeResponse(Status status, std::string body, const char* content_type) {
  Response res{status, 11};
  res.set(Field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

Response JsonError(Status status, const std::string& message) {
  return MakeResponse(status, nlohmann::json{{"error", message}}.dump());
}

}  // namespace tandem::http
