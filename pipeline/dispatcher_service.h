// `tandem dispatcher -c FILE --color C`: durable raw log, loader, forwarder.
#pragma once

#include <string>

#include "common/config.h"

namespace tandem::pipeline {

// Runs until SIGTERM or SIGINT, then drains and returns 0. Throws on startup failures.
int RunDispatcher(const std::string& config_file, Color color);

}  // namespace tandem::pipeline
