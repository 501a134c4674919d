// Reconciles the two colors' reads of one window key by key: per event name,
// counts, ids on one side only and ids whose body differs; per vendor and event,
// delivery outcomes, ids with a delivery row on one side only and ids whose
// payload_hash differs (sampled for a field-by-field diff).
#pragma once

#include <vector>

#include "compare/report.h"
#include "compare/window_reader.h"

namespace tandem::compare {

struct WindowDiff {
  WindowReport report;  // counts and examples; not yet judged
  // Mismatched (tandem_id, vendor) pairs worth a field diff, a few per vendor and event.
  std::vector<PayloadKey> payload_samples;
};

// More distinct event names than this in one window are folded into "(other)":
// names come from clients, and the report must stay bounded.
inline constexpr size_t kMaxEventNames = 100;
inline constexpr const char* kInvalidEvent = "(invalid)";
inline constexpr const char* kOtherEvents = "(other)";

WindowDiff DiffWindow(const ColorWindow& live, const ColorWindow& candidate);

// Adds the field differences of the sampled payloads to the report's vendors.
void AddPayloadFields(const std::vector<std::pair<PayloadKey, std::string>>& live_payloads,
                      const std::vector<std::pair<PayloadKey, std::string>>& candidate_payloads,
                      WindowReport& report);

}  // namespace tandem::compare
