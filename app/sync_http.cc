#include "app/sync_http.h"

#include <cstdlib>

#include "common/http_client.h"
#include "common/sync_client.h"

namespace tandem::app {

FetchResult FetchWith(http::Verb method, const std::string& url, const std::string& body,
                      const std::string& content_type,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout, const std::string& ca_file) {
  FetchResult out;
  http::Upstream up;
  std::string target;
  if (!http::ParseUrl(url, up, target)) {
    out.ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    return out;
  }
  http::SyncClient client(
      url.substr(0, url.size() - (target == "/" && url.back() != '/' ? 0 : target.size())),
      ca_file);
  http::Request req{method, target, 11};
  for (const auto& [name, value] : headers) req.insert(name, value);
  if (!content_type.empty()) req.set(http::Field::content_type, content_type);
  req.body() = body;
  auto r = client.Send(std::move(req), timeout);
  out.ec = r.ec;
  out.res = std::move(r.res);
  return out;
}

FetchResult Fetch(http::Verb method, const std::string& url, const std::string& body,
                  const std::string& bearer, std::chrono::milliseconds timeout,
                  const std::string& ca_file) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
  bool json_body = !body.empty() || method == http::Verb::post;
  return FetchWith(method, url, body, json_body ? "application/json" : "", headers, timeout,
                   ca_file);
}

std::string AdminUrl(const Config& c, const std::string& path) {
  const HostPort& a = c.splitter.admin_listen;
  std::string host = a.host == "0.0.0.0" ? "127.0.0.1" : (a.host == "::" ? "::1" : a.host);
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(a.port) + path;
}

std::string AdminToken(const Config& c) {
  const char* t = std::getenv(c.splitter.admin_token_env.c_str());
  return t ? t : "";
}

}  // namespace tandem::app
