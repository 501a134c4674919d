// Per-event evidence: each event name's losses pooled over every judged window
// the report keeps (history_windows, since the last swap), not only the
// trailing passing run, so a rare event's loss cannot hide behind the common
// ones, and a lucky streak of windows cannot make a recent loss forgotten; an
// old loss ages out with its window.
#pragma once

#include <vector>

#include "compare/report.h"

namespace tandem::compare {

// Every event name with events sent to the candidate in `judged`, by name, each
// with the exact one-sided binomial test of its loss against max_ratio.
std::vector<EventEvidence> EventsEvidence(const std::vector<const WindowReport*>& judged,
                                          double max_ratio);

}  // namespace tandem::compare
