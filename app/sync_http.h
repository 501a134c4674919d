// Blocking HTTP calls for the command-line tools (status, promote, replay).
#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/http_types.h"

namespace tandem::app {

struct FetchResult {
  boost::system::error_code ec;
  http::Response res;
};

// method + url (http:// or https://; ca_file adds a trust anchor) with optional bearer token.
FetchResult Fetch(http::Verb method, const std::string& url, const std::string& body,
                  const std::string& bearer, std::chrono::milliseconds timeout,
                  const std::string& ca_file = "");

// Any request: body with its content type (none when empty) and extra headers.
FetchResult FetchWith(http::Verb method, const std::string& url, const std::string& body,
                      const std::string& content_type,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout, const std::string& ca_file = "");

std::string AdminUrl(const Config& c, const std::string& path);
// The admin token from the environment variable the config names; empty if unset.
std::string AdminToken(const Config& c);

}  // namespace tandem::app
