#pragma once

#include <string>
#include <string_view>

namespace tandem {
// RFC 3986 percent-encoding of everything but unreserved characters.
std::string PercentEncode(std::string_view s);
}  // namespace tandem
