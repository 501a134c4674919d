// SHA-256 as lower-case hex: what `deliveries.payload_hash` holds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tandem {

std::string Sha256Hex(std::string_view data);
// The digest's first 8 bytes as a big-endian integer: the splitter's sampling key.
uint64_t Sha256Prefix64(std::string_view data);

}  // namespace tandem
