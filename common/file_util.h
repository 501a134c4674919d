#pragma once

#include <string>
#include <system_error>

namespace tandem {

// Replaces `path` with `content` so that a crash leaves the old or the new file,
// never a torn one: write a temporary, fsync it, rename it, fsync the folder.
std::error_code WriteFileAtomic(const std::string& path, const std::string& content);

// Whole file into `out`; false when it cannot be read.
bool ReadFile(const std::string& path, std::string& out);

}  // namespace tandem
