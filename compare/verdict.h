// Turns reconciled windows into the verdict, failing closed (SPEC section 7):
// each window's checks against max_drift_ratio, then `ready` only when the last
// windows_required windows pass with enough events and the loss bound over the
// trailing run of passing windows is within max_drift_ratio.
#pragma once

#include "common/config.h"
#include "compare/report.h"

namespace tandem::compare {

// Sets the window's pass, thin and reasons (each naming the window, event and numbers).
void JudgeWindow(const CompareConfig& config, WindowReport& window);

// Sets the report's verdict, reasons and evidence from its windows and errors.
void Decide(const CompareConfig& config, Report& report);

// "15:02:00-15:03:00 UTC" for a window.
std::string WindowName(int64_t start_ms, int64_t end_ms);

}  // namespace tandem::compare
