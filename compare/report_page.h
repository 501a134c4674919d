// The report as a self-contained HTML page (no external assets; it refreshes
// itself): what a release engineer reads where there is no Grafana.
#pragma once

#include <string>

#include "compare/report.h"

namespace tandem::compare {

// `report` null: no report yet.
std::string RenderReportPage(const Report* report);

}  // namespace tandem::compare
