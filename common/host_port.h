// A listen or connect address as the config writes it: HOST:PORT, [V6]:PORT.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tandem {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;

  // "127.0.0.1:8080", "[::1]:8080"; nullopt when it is not HOST:PORT.
  static std::optional<HostPort> Parse(std::string_view text);
  std::string ToString() const;
  bool operator==(const HostPort&) const = default;
};

}  // namespace tandem
