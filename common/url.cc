#include "common/url.h"

#include <charconv>

#include "common/host_port.h"

namespace tandem {
namespace {

std::optional<uint16_t> ParsePort(std::string_view s) {
  unsigned v = 0;
  if (s.empty() || s.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::string Bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::optional<HostPort> HostPort::Parse(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = s.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto port = ParsePort(s.substr(colon + 1));
  if (host.empty() || !port) return std::nullopt;
  return HostPort{std::string(host), *port};
}

std::string HostPort::ToString() const { return Bracketed(host) + ":" + std::to_string(port); }

std::optional<Url> Url::Parse(std::string_view text) {
  Url u;
  if (text.substr(0, 7) == "http://") {
    text.remove_prefix(7);
    u.port = 80;
  } else if (text.substr(0, 8) == "https://") {
    text.remove_prefix(8);
    u.tls = true;
    u.port = 443;
  } else {
    return std::nullopt;
  }
  size_t end = text.find_first_of("/?#");
  std::string_view authority = text.substr(0, end);
  if (end != std::string_view::npos) {
    std::string_view rest = text.substr(end);
    rest = rest.substr(0, rest.find('#'));
    u.target = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
  }
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      auto port = ParsePort(after.substr(1));
      if (!port) return std::nullopt;
      u.port = *port;
    }
    authority = authority.substr(1, close - 1);
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    auto port = ParsePort(authority.substr(colon + 1));
    if (!port) return std::nullopt;
    u.port = *port;
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return std::nullopt;
  u.host = std::string(authority);
  return u;
}

std::string Url::Origin() const {
  std::string out = (tls ? "https://" : "http://") + Bracketed(host);
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string Url::HostHeader() const {
  std::string out = Bracketed(host);
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

Url Url::Join(std::string_view path) const {
  Url out = *this;
  std::string base = target.substr(0, target.find('?'));
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (path.empty() || path.front() != '/') base += '/';
  out.target = base + std::string(path);
  return out;
}

}  // namespace tandem
