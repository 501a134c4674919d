// What compare found, window by window, and its verdict (SPEC section 7). Plain
// data: the comparator fills it, report_json turns it into /v1/report, the page
// and the metrics read it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tandem::compare {

inline constexpr size_t kExamples = 5;  // ids kept per kind of difference

// One JSON field that differs between the two colors' payloads for a vendor.
struct FieldDiff {
  std::string field;   // JSON path, e.g. event_properties.note
  std::string change;  // added | removed | changed (in the candidate, against live)
  std::string live;    // example values as JSON text; empty when absent
  std::string candidate;
  std::string tandem_id;  // the example's event
  uint64_t count = 0;     // sampled payloads with this difference
};

struct EventStats {
  std::string event;
  uint64_t live = 0, candidate = 0;
  // Of live's events, what became of the candidate's copy (raw.mirror): only
  // `sent` ones are judged (drift, missing, the loss bound).
  uint64_t sent = 0, sampled_out = 0, shed = 0;
  uint64_t missing_in_candidate = 0, missing_in_live = 0, mismatched = 0;
  std::vector<std::string> missing_in_candidate_ids, missing_in_live_ids, mismatched_ids;
};

// One vendor's deliveries for one event name.
struct VendorStats {
  std::string vendor, event;
  uint64_t live_delivered = 0, candidate_delivered = 0;  // delivered or skipped (settled)
  uint64_t live_failed = 0, candidate_failed = 0;
  uint64_t only_live = 0, only_candidate = 0;  // ids with a row on one side only
  uint64_t both = 0;                           // ids with a row on both sides
  uint64_t payload_mismatched = 0;
  std::vector<std::string> only_live_ids, only_candidate_ids, mismatched_ids;
  std::vector<FieldDiff> fields;
  bool payloads_recorded = true;  // false: the rows carry no payload to diff
};

enum class WindowState { kJudged, kSpansSwap };

struct WindowReport {
  int64_t start_ms = 0, end_ms = 0;
  WindowState state = WindowState::kJudged;
  uint64_t live_count = 0, candidate_count = 0;
  uint64_t sent = 0, sampled_out = 0, shed = 0;  // live's events by raw.mirror
  // Missing in the candidate, and live's row has no raw.mirror (an older
  // dispatcher): counted as sent, but maybe sampled out.
  uint64_t missing_unmarked = 0;
  uint64_t missing_in_candidate = 0, missing_in_live = 0, mismatched = 0;
  bool pass = true;
  bool thin = false;  // fewer than min_events_per_window events sent to the candidate
  std::vector<std::string> reasons;
  std::vector<EventStats> events;
  std::vector<VendorStats> deliveries;
};

enum class Verdict { kReady, kNotReady, kInsufficientData };
const char* VerdictName(Verdict v);

// One event name's losses over every judged window the report keeps.
struct EventEvidence {
  std::string event;
  uint64_t windows = 0;  // judged windows holding events of it sent to the candidate
  uint64_t sent = 0, lost = 0;
  double p_value = 1.0;      // LossAboveLimitPValue(lost, sent, max_drift_ratio)
  bool above_limit = false;  // p_value below 1 - confidence
  std::string example_id;    // a lost event, the latest window's first
};

struct Evidence {
  uint64_t windows = 0;                   // the trailing run of passing judged windows
  uint64_t sent_events = 0, lost = 0;     // events sent to the candidate; those it lacks
  double upper_bound = 1.0;               // LossUpperBound(lost, sent_events)
  std::optional<uint64_t> events_needed;  // more events for the bound to reach max_drift_ratio
  std::optional<double> seconds_needed;   // the same at the current rate
  std::string sentence;                   // the bound in plain words
  std::string needed;                     // what is still needed, in plain words; empty: nothing
  std::vector<EventEvidence> by_event;    // every event name with an event sent, by name
};

struct Report {
  int64_t generated_at_ms = 0;
  std::string live, candidate;  // colors; empty when unknown
  int64_t state_changed_at_ms = 0;
  Verdict verdict = Verdict::kInsufficientData;
  std::vector<std::string> reasons;
  std::vector<std::string> errors;  // what could not be read this time
  Evidence evidence;
  std::vector<WindowReport> windows;  // oldest first
  std::optional<int64_t> next_judged_at_ms;
  // Settings the verdict used, so the report explains itself.
  double max_drift_ratio = 0;
  uint32_t windows_required = 0, min_events_per_window = 0, window_seconds = 0, settle_seconds = 0;
};

}  // namespace tandem::compare
