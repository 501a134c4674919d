#include "common/fetch.h"

#include "common/sync_client.h"
#include "common/url.h"

namespace tandem::http {

FetchResult FetchWith(Verb method, const std::string& url, const std::string& body,
                      const std::string& content_type,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout, const std::string& ca_file) {
  FetchResult out;
  auto u = Url::Parse(url);
  if (!u) {
    out.ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    return out;
  }
  SyncClient client(*u, ca_file);
  Request req{method, u->target, 11};
  for (const auto& [name, value] : headers) req.insert(name, value);
  if (!content_type.empty()) req.set(Field::content_type, content_type);
  req.body() = body;
  auto r = client.Send(std::move(req), timeout);
  out.ec = r.ec;
  out.res = std::move(r.res);
  return out;
}

FetchResult Fetch(Verb method, const std::string& url, const std::string& body,
                  const std::string& bearer, std::chrono::milliseconds timeout,
                  const std::string& ca_file) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
  bool json_body = !body.empty() || method == Verb::post;
  return FetchWith(method, url, body, json_body ? "application/json" : "", headers, timeout,
                   ca_file);
}

}  // namespace tandem::http
