// The report as /v1/report's JSON (SPEC section 7's shape, plus the evidence).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "compare/report.h"

namespace tandem::compare {

nlohmann::json ReportToJson(const Report& report);

}  // namespace tandem::compare
