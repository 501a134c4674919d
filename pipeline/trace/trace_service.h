// `tandem trace -c FILE --color C`: a pipeline's second stage (SPEC section 6).
#pragma once

#include <string>

#include "common/color.h"

namespace tandem::trace {

// Runs until SIGTERM or SIGINT, then drains and returns 0. Throws on startup failures.
int RunTrace(const std::string& config_file, Color color);

}  // namespace tandem::trace
