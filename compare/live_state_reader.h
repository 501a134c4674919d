// Which color is live, read from the splitter's admin API (GET
// /admin/v1/state, with the admin token from the environment).
#pragma once

#include <optional>
#include <string>

#include "common/config.h"
#include "compare/comparator.h"

namespace tandem::compare {

// nullopt with `error` set when the state cannot be read or makes no sense.
std::optional<LiveState> ReadLiveState(const Config& config, std::string& error);

}  // namespace tandem::compare
