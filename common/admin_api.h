// Where the command-line tools find the splitter's admin API, and its token.
#pragma once

#include <string>

#include "common/config.h"

namespace tandem {

std::string AdminUrl(const Config& c, const std::string& path);
// The admin token from the environment variable the config names; empty if unset.
std::string AdminToken(const Config& c);

}  // namespace tandem
