// One URL type for every outgoing call (dispatchers, compare, vendors, BigQuery,
// Google's token endpoint): http:// or https://, host, port, target.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tandem {

struct Url {
  bool tls = false;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::string target = "/";  // path and query; never empty

  // http:// or https:// URLs only; nullopt for anything else.
  static std::optional<Url> Parse(std::string_view text);

  // scheme://host[:port], the port left out when it is the scheme's default.
  std::string Origin() const;
  std::string ToString() const { return Origin() + target; }
  // The Host header: host[:port], IPv6 hosts in brackets.
  std::string HostHeader() const;
  // This URL with `path` appended to its own path ("http://h/base" + "/v1/report"),
  // its query dropped.
  Url Join(std::string_view path) const;
};

}  // namespace tandem
