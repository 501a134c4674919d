// `tandem splitter -c FILE`: the front door, until SIGTERM.
#pragma once

#include <string>

namespace tandem::splitter {

// Runs until SIGTERM or SIGINT, then drains and returns 0. Throws ConfigError
// (exit 2) and std::runtime_error on startup failures.
int RunSplitter(const std::string& config_file);

}  // namespace tandem::splitter
