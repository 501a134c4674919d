#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tandem {
// RFC 4648 section 5 (URL-safe alphabet), without padding: JWTs, and bytes in JSON.
std::string Base64Url(std::string_view data);
// RFC 4648 section 4 (standard alphabet, padded): what etcd's JSON gateway speaks.
std::string Base64(std::string_view data);
// nullopt when `text` is not padded standard base64.
std::optional<std::string> Base64Decode(std::string_view text);
}  // namespace tandem
