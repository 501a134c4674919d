// Reads one color's share of one window from its dataset: every raw event
// received in [start, end) with its event name, a fingerprint of its body and
// what became of the candidate's copy (raw.mirror),
// and the deliveries rows of those events. A bounded number of queries per
// window and color whatever the traffic (BigQuery: two, so a bounded number of
// jobs; SQLite: two, three when a direct caller stamped ids of its own).
//
// A window holds ~100k events per color at production rates, so rows are kept
// compact (ids as 128-bit keys, names interned, hashes as 64-bit prefixes) and
// sorted by id: the two colors are then reconciled by a merge, without maps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "datasets/dataset.h"

namespace tandem::compare {

// A tandem id: the UUID's 128 bits, or for an id that is not a UUID a 128-bit
// hash of its text (the text kept aside for examples).
struct IdKey {
  uint64_t hi = 0, lo = 0;
  bool operator==(const IdKey&) const = default;
  auto operator<=>(const IdKey&) const = default;
};

struct IdKeyHash {
  size_t operator()(const IdKey& k) const { return k.lo ^ (k.hi * 0x9E3779B97F4A7C15ull); }
};

// Names seen in one read, numbered in order of appearance.
class Names {
 public:
  uint32_t Intern(std::string_view name);
  const std::string& at(uint32_t i) const { return names_[i]; }
  size_t size() const { return names_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr size_t kScanLimit = 8;
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> index_;
  std::vector<std::string> names_;
};

// raw.mirror: what became of the candidate's copy when the live copy left.
// kUnmarked (NULL: an older release's dispatcher, a direct call) counts as sent.
enum class Mirror : uint8_t { kSent, kSampledOut, kShed, kUnmarked };

struct RawFact {
  IdKey id;
  uint32_t event;  // into ColorWindow::events; "" when the body has no string event
  Mirror mirror;
  uint64_t fingerprint;
};

struct DeliveryFact {
  IdKey id;
  uint32_t vendor;  // into ColorWindow::vendors
  bool settled;     // delivered or skipped (what a candidate in skip mode writes)
  uint64_t hash;    // the payload_hash's first 64 bits; 0 when there is none
  bool operator<(const DeliveryFact& o) const { return id != o.id ? id < o.id : vendor < o.vendor; }
};

struct ColorWindow {
  std::vector<RawFact> raw;              // sorted by id, one per id
  std::vector<DeliveryFact> deliveries;  // sorted by (id, vendor), one per pair
  Names events, vendors;
  std::unordered_map<IdKey, std::string, IdKeyHash> odd_ids;  // the text of ids not UUIDs

  std::string IdText(const IdKey& id) const;
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

// The first received_at at or after `from_ms` (-1 when none), so a report skips
// the empty stretch before the first event.
Status FirstReceivedAt(Dataset& dataset, int64_t from_ms, int64_t& out);

}  // namespace tandem::compare
