// compare's report for a person at a terminal: the verdict, its evidence, what
// is still needed, the reasons, and a table of the windows.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <ostream>

namespace tandem::app {

void PrintReport(const nlohmann::json& report, std::ostream& out);

}  // namespace tandem::app
