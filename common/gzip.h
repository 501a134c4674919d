// Decoding of gzip request bodies (RFC 1952), as mobile SDKs send them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tandem {

enum class GunzipResult { kOk, kTooLarge, kCorrupt };

// Decodes `in` (one or more gzip members) into `out`. Stops as soon as the
// decoded size would pass `max_out` (kTooLarge): a small body that expands to
// gigabytes (a decompression bomb) costs at most `max_out` bytes.
GunzipResult Gunzip(std::string_view in, uint64_t max_out, std::string& out);

}  // namespace tandem
