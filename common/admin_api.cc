#include "common/admin_api.h"

#include <cstdlib>

namespace tandem {

std::string AdminUrl(const Config& c, const std::string& path) {
  HostPort a = c.splitter.admin_listen;
  if (a.host == "0.0.0.0") a.host = "127.0.0.1";
  if (a.host == "::") a.host = "::1";
  return "http://" + a.ToString() + path;
}

std::string AdminToken(const Config& c) {
  const char* t = std::getenv(c.splitter.admin_token_env.c_str());
  return t ? t : "";
}

}  // namespace tandem
