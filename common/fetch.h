// Blocking one-off HTTP(S) calls, for command-line tools and tests: a SyncClient
// per call. Services use ClientPool instead.
#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/http_types.h"

namespace tandem::http {

struct FetchResult {
  boost::system::error_code ec;
  Response res;
};

// method + url (http:// or https://; ca_file adds a trust anchor) with an optional
// bearer token; a body is sent as application/json.
FetchResult Fetch(Verb method, const std::string& url, const std::string& body,
                  const std::string& bearer, std::chrono::milliseconds timeout,
                  const std::string& ca_file = "");

// Any request: body with its content type (none when empty) and extra headers.
FetchResult FetchWith(Verb method, const std::string& url, const std::string& body,
                      const std::string& content_type,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout, const std::string& ca_file = "");

}  // namespace tandem::http
