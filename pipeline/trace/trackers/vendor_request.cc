#include "pipeline/trace/trackers/vendor_request.h"

namespace tandem::trace {

http::Request JsonPost(const std::string& target, const nlohmann::json& body) {
  http::Request req{http::Verb::post, target, 11};
  req.set(http::Field::content_type, "application/json");
  req.set(http::Field::user_agent, "tandem-trace");
  req.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return req;
}

std::string VendorPath(const Url& endpoint, std::string_view path) {
  std::string base = endpoint.target.substr(0, endpoint.target.find('?'));
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + std::string(path);
}

nlohmann::json JsonBody(const http::Response& res) {
  return nlohmann::json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace tandem::trace
