// Reads one color's share of one window from its dataset: every raw event
// received in [start, end) with its event name and a fingerprint of its body,
// and the deliveries rows of those events. Two queries per window and color
// whatever the traffic, so the BigQuery path costs a bounded number of jobs.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "datasets/dataset.h"

namespace tandem::compare {

struct RawFacts {
  std::string event;        // "" when the body is not JSON or has no string event
  std::string fingerprint;  // equal bodies give equal fingerprints
};

struct DeliveryFacts {
  std::string vendor, outcome, payload_hash;
};

struct ColorWindow {
  std::unordered_map<std::string, RawFacts> raw;                           // by tandem_id
  std::unordered_map<std::string, std::vector<DeliveryFacts>> deliveries;  // by tandem_id
};

// How bodies are fingerprinted. Both colors must use the same: a dataset's own
// hash when both speak the same dialect, the byte length otherwise.
enum class Fingerprint { kHash, kLength };

Status ReadWindow(Dataset& dataset, int64_t start_ms, int64_t end_ms, Fingerprint fp,
                  ColorWindow& out);

// The recorded payloads of these (tandem_id, vendor) pairs, in one query; a pair
// with no recorded payload is absent from `out`.
using PayloadKey = std::pair<std::string, std::string>;
Status ReadPayloads(Dataset& dataset, const std::vector<PayloadKey>& keys,
                    std::vector<std::pair<PayloadKey, std::string>>& out);

// The first received_at at or after `from_ms` (nullopt-like -1 when none), so a
// report skips the empty stretch before the first event.
Status FirstReceivedAt(Dataset& dataset, int64_t from_ms, int64_t& out);

}  // namespace tandem::compare
