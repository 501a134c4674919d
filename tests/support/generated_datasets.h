// Two colors' datasets made up for compare's tests, calibration and benchmark:
// realistic traffic (several event names, two vendors with recorded payloads),
// each row with the time it reaches its dataset (late arrivals), and the faults
// a bad release makes (events dropped, a payload field lost, payloads altered).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace tandem::testing {

inline constexpr int64_t kMinute = 60000;
inline constexpr int64_t kStart = 1767225600000;  // 2026-01-01 00:00 UTC, a window boundary

struct TrafficSpec {
  int64_t start_ms = 0;  // first window's start (a multiple of window_ms)
  int64_t window_ms = 60000;
  int windows = 3;
  int events_per_window = 2000;
  uint64_t seed = 1;
  std::vector<std::string> vendors = {"amp", "hooks"};
  // Shares of GeneratedEventNames(), in that order.
  std::vector<double> event_weights = {60, 20, 10, 10};
  int devices = 997;
  // The splitter's sampling: a device's events go to the candidate when the
  // SHA-256 rule picks it (SPEC section 4); the others are `sampled_out` in
  // live's raw.mirror. Of those picked, shed_fraction are `shed` instead.
  double mirror_fraction = 1.0;
  double shed_fraction = 0;
  // Rows reach each dataset this late after received_at: exponential with this
  // mean, capped (inside settle_seconds).
  int64_t late_mean_ms = 0, late_max_ms = 0;

  // Faults, all in the candidate.
  std::string drop_event;  // this event loses drop_fraction of its events
  double drop_fraction = 0;
  int drop_every = 0;  // > 0: every drop_every-th event sent (any name) is lost too
  std::string strip_vendor, strip_event, strip_field;  // its payloads lose this field
  int alter_payloads = 0;  // this many payloads (first vendor) get another value
};

struct GeneratedColor {
  std::vector<std::pair<int64_t, RawRow>> raw;  // (arrival ms, row), by arrival
  std::vector<std::pair<int64_t, DeliveryRow>> deliveries;
};

struct GeneratedTraffic {
  GeneratedColor live, candidate;
  uint64_t dropped = 0;                          // events sent to the candidate and missing in it
  uint64_t sent = 0, sampled_out = 0, shed = 0;  // live's events by raw.mirror
};

// The splitter's rule, written again from SPEC section 4 (not the splitter's
// code): a device is sampled when the first 8 bytes of SHA-256 of its id, as a
// big-endian integer, are below fraction x 2^64.
bool DeviceSampled(const std::string& device_id, double fraction);

GeneratedTraffic Generate(const TrafficSpec& spec);

// Writes the rows that have arrived by `until_ms` and not before `after_ms`.
void WriteArrived(const GeneratedColor& rows, Dataset& dataset, int64_t after_ms, int64_t until_ms);

// The event names Generate uses, most frequent first.
const std::vector<std::string>& GeneratedEventNames();

}  // namespace tandem::testing
