// How strongly the judged windows show that the candidate loses (almost)
// nothing: the exact one-sided Clopper-Pearson upper confidence bound on the
// candidate's loss rate, and how many more events it takes to bring that bound
// within a threshold.
#pragma once

#include <cstdint>
#include <optional>

namespace tandem::compare {

inline constexpr double kConfidence = 0.95;

// The p for which seeing at most `lost` losses in `events` has probability
// 1 - confidence: the Beta(lost + 1, events - lost) quantile. 1 when events is 0.
double LossUpperBound(uint64_t lost, uint64_t events, double confidence = kConfidence);

// The fewest events n >= `events`, at the observed loss rate lost/events (0 losses
// stay 0), for which LossUpperBound is within `max_ratio`; nullopt when the
// observed rate alone is above it (more data cannot help).
std::optional<uint64_t> EventsNeeded(uint64_t lost, uint64_t events, double max_ratio,
                                     double confidence = kConfidence);

// The exact one-sided binomial test of "the loss rate is at most max_ratio":
// P(X >= lost) for X ~ Binomial(events, max_ratio). Below 1 - confidence, the
// observed loss is significantly above max_ratio. 1 when nothing was lost.
double LossAboveLimitPValue(uint64_t lost, uint64_t events, double max_ratio);

}  // namespace tandem::compare
