// `tandem compare -c FILE`: the comparator service (SPEC section 7), and
// `--once`, one report printed as JSON.
#pragma once

#include <optional>
#include <string>

#include "common/color.h"

namespace tandem::compare {

// Runs until SIGTERM or SIGINT, then drains and returns 0. Throws on startup failures.
int RunCompare(const std::string& config_file);

// Prints one report as JSON; 0 when the verdict is ready, 1 otherwise. `live`:
// judge with this color live instead of asking the splitter (offline analysis).
int RunCompareOnce(const std::string& config_file, std::optional<Color> live);

}  // namespace tandem::compare
