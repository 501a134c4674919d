// SHA-256 as lower-case hex: what `deliveries.payload_hash` holds.
#pragma once

#include <string>
#include <string_view>

namespace tandem {

std::string Sha256Hex(std::string_view data);

}  // namespace tandem
