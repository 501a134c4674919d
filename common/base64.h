#pragma once

#include <string>
#include <string_view>

namespace tandem {
// RFC 4648 section 5 (URL-safe alphabet), without padding: JWTs, and bytes in JSON.
std::string Base64Url(std::string_view data);
}  // namespace tandem
