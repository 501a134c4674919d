#pragma once

#include <string_view>

namespace tandem::splitter {
// sdk/sparrow.js, embedded at build time.
std::string_view SparrowJs();
}  // namespace tandem::splitter
