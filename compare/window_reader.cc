#include "compare/window_reader.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace tandem::compare {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// BigQuery's TIMESTAMP ends in 9999.
constexpr int64_t kLastTimestampMs = 253402300799000;

bool BigQuery(const Dataset& d) { return d.dialect() == SqlDialect::kBigQuery; }

std::string From(const Dataset& d, const char* table) { return d.Table(table); }

std::string EventName(const Dataset& d) {
  if (BigQuery(d)) return "SAFE.JSON_EXTRACT_SCALAR(data, '$.event')";
  // The one-pass scan answers for almost every body; json_extract (which raises
  // an error on a malformed body: raw keeps those too) for the rest.
  return "COALESCE(tandem_top_level_string(data, 'event'), "
         "CASE WHEN json_valid(data) THEN json_extract(data, '$.event') END)";
}

std::string BodyFingerprint(const Dataset& d, Fingerprint fp) {
  if (fp == Fingerprint::kLength)
    return BigQuery(d) ? "BYTE_LENGTH(data)" : "length(CAST(data AS BLOB))";
  return BigQuery(d) ? "FARM_FINGERPRINT(data)" : "tandem_fingerprint(data)";
}

// Tandem ids are UUIDs the splitter stamps; anything else is not put in SQL.
bool PlainId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_';
  });
}

}  // namespace

uint32_t Names::Intern(std::string_view name) {
  // A window has a handful of event names and vendors: a scan of them beats
  // hashing each row's name.
  if (names_.size() <= kScanLimit) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return static_cast<uint32_t>(i);
    }
  }
  auto it = index_.find(name);  // heterogeneous: no string made per row
  if (it != index_.end()) return it->second;
  auto i = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  index_.emplace(names_.back(), i);
  return i;
}

namespace {

// Digit values by table: every id of a window is decoded (a tenth of a read's
// CPU when done digit by digit with branches). 0xff: not a digit.
struct HexTable {
  uint8_t value[256];
  constexpr explicit HexTable(bool upper) : value() {
    for (auto& v : value) v = 0xff;
    for (int c = '0'; c <= '9'; ++c) value[c] = static_cast<uint8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) value[c] = static_cast<uint8_t>(c - 'a' + 10);
    if (upper)
      for (int c = 'A'; c <= 'F'; ++c) value[c] = static_cast<uint8_t>(c - 'A' + 10);
  }
  uint8_t operator()(char c) const { return value[static_cast<unsigned char>(c)]; }
};
constexpr HexTable kLowerHex(false);  // ids: one spelling per id
constexpr HexTable kAnyHex(true);

// 8-4-4-4-12 lowercase hex digits, not starting with f (keys whose top
// nibble is f are reserved for hashed ids, so no UUID can be written to take a
// hashed id's key); false for anything else.
bool ParseUuid(std::string_view s, IdKey& out) {
  if (s.size() != 36 || s[0] == 'f' || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
    return false;
  static constexpr uint8_t kDigitAt[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11,
                                           12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25,
                                           26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
  uint64_t hi = 0, lo = 0;
  uint8_t seen = 0;
  for (int i = 0; i < 16; ++i) {
    uint8_t v = kLowerHex(s[kDigitAt[i]]);
    seen |= v;
    hi = hi << 4 | (v & 0xf);
  }
  for (int i = 16; i < 32; ++i) {
    uint8_t v = kLowerHex(s[kDigitAt[i]]);
    seen |= v;
    lo = lo << 4 | (v & 0xf);
  }
  if (seen & 0xf0) return false;
  out = {hi, lo};
  return true;
}

uint64_t Fnv(std::string_view s, uint64_t h) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

IdKey KeyOf(std::string_view id, ColorWindow& w) {
  IdKey k;
  if (ParseUuid(id, k)) return k;
  // Not such a UUID: two independent 64-bit hashes, the top nibble set so the
  // key is never a parsed UUID's.
  k = {Fnv(id, 1469598103934665603ull) | 0xf000000000000000ull, Fnv(id, 0x84222325cbf29ce4ull)};
  w.odd_ids.emplace(k, std::string(id));
  return k;
}

uint64_t HashPrefix(std::string_view hex) {
  uint64_t h = 0;
  for (size_t i = 0; i < hex.size() && i < 16; ++i) {
    uint8_t v = kAnyHex(hex[i]);
    if (v == 0xff) return Fnv(hex, 1469598103934665603ull) | 1;  // not hex: still comparable
    h = h << 4 | static_cast<uint64_t>(v);
  }
  return hex.empty() ? 0 : (h | (h == 0));
}

uint64_t ParseU64(std::string_view s) {
  // SQLite's fingerprint is a signed 64-bit integer, BigQuery's too; the byte
  // length is small. Only equality matters.
  uint64_t v = 0;
  bool neg = !s.empty() && s[0] == '-';
  for (size_t i = neg ? 1 : 0; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return Fnv(s, 1469598103934665603ull);
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  return neg ? ~v + 1 : v;
}

// Anything but the two values that say otherwise counts as sent: a NULL is an
// older release's row, and judging it is the safe side.
Mirror MirrorOf(std::string_view v) {
  if (v == "sampled_out") return Mirror::kSampledOut;
  if (v == "shed") return Mirror::kShed;
  return v.empty() ? Mirror::kUnmarked : Mirror::kSent;
}

}  // namespace

std::string ColorWindow::IdText(const IdKey& id) const {
  if ((id.hi >> 60) == 0xf) {
    auto it = odd_ids.find(id);
    if (it != odd_ids.end()) return it->second;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(id.hi >> 32),
                static_cast<unsigned long long>((id.hi >> 16) & 0xffff),
                static_cast<unsigned long long>(id.hi & 0xffff),
                static_cast<unsigned long long>(id.lo >> 48),
                static_cast<unsigned long long>(id.lo & 0xffffffffffffull));
  return buf;
}

namespace {

using RowFn = Dataset::RowFn;

constexpr const char* kDeliveryColumns = "tandem_id, vendor, outcome, payload_hash";

// Every deliveries row of the events received in the window, by joining raw:
// one query whatever the ids look like (BigQuery, which has no index to walk).
Status ReadDeliveriesByJoin(Dataset& d, int64_t start_ms, int64_t end_ms, const RowFn& add) {
  return d.QueryEach("SELECT d.tandem_id, d.vendor, d.outcome, d.payload_hash FROM " +
                         From(d, "deliveries") + " d JOIN " + From(d, "raw") +
                         " r ON r.tandem_id = d.tandem_id WHERE " +
                         TimeBetween(d, "r.received_at", start_ms, end_ms),
                     add);
}

// "xxxxxxxx-xxxx": the text every UUIDv7 made at `unix_ms` (48 bits) starts with.
std::string UuidTimePrefix(uint64_t unix_ms) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx",
                static_cast<unsigned long long>((unix_ms >> 16) & 0xffffffff),
                static_cast<unsigned long long>(unix_ms & 0xffff));
  return buf;
}

// A UUIDv7's time has 48 bits.
uint64_t UuidTime(int64_t unix_ms) {
  return std::clamp<int64_t>(unix_ms, 0, (int64_t{1} << 48) - 1);
}

// The splitter stamps each event with a UUIDv7 whose time is its received_at,
// so a window's events are one contiguous stretch of the deliveries primary
// key. Walking it in order spares the join's second pass over raw and its seek
// per event: a color's whole read of a window takes about a quarter less CPU
// (docs/benchmarks.md, "Deliveries by id range").
// Events whose id is not such a UUID of the window (a direct caller's own
// stamp) are looked up by id; too many of those, or one that cannot be
// quoted, and the window is read by the join after all.
Status ReadDeliveriesById(Dataset& d, int64_t start_ms, int64_t end_ms, const ColorWindow& w,
                          const RowFn& add) {
  constexpr size_t kMaxLookups = 1000;
  const uint64_t first = UuidTime(start_ms), last = UuidTime(end_ms);
  std::string others;
  size_t lookups = 0;
  for (const RawFact& f : w.raw) {
    const uint64_t made_at = f.id.hi >> 16;
    if ((f.id.hi >> 60) != 0xf && made_at >= first && made_at < last) continue;
    std::string id = w.IdText(f.id);
    if (++lookups > kMaxLookups || !PlainId(id))
      return ReadDeliveriesByJoin(d, start_ms, end_ms, add);
    others += others.empty() ? "'" : ", '";
    others += id;
    others += "'";
  }
  const std::string table = From(d, "deliveries");
  Status s = d.QueryEach("SELECT " + std::string(kDeliveryColumns) + " FROM " + table +
                             " WHERE tandem_id >= '" + UuidTimePrefix(first) +
                             "' AND tandem_id < '" + UuidTimePrefix(last) + "'",
                         add);
  if (!s.ok() || others.empty()) return s;
  return d.QueryEach("SELECT " + std::string(kDeliveryColumns) + " FROM " + table +
                         " WHERE tandem_id IN (" + others + ")",
                     add);
}

}  // namespace

Status ReadWindow(Dataset& d, int64_t start_ms, int64_t end_ms, Fingerprint fp, ColorWindow& out) {
  // Cleared, not replaced: a window's vectors are large, and reusing their
  // memory spares the page faults of fresh allocations every window.
  out.raw.clear();
  out.deliveries.clear();
  out.events = Names{};
  out.vendors = Names{};
  out.odd_ids.clear();
  Status s = d.QueryEach("SELECT tandem_id, " + EventName(d) + ", " + BodyFingerprint(d, fp) +
                             ", mirror FROM " + From(d, "raw") + " WHERE " +
                             TimeBetween(d, "received_at", start_ms, end_ms),
                         [&](const std::vector<std::string_view>& r) {
                           if (r.size() < 4) return;
                           out.raw.push_back({KeyOf(r[0], out), out.events.Intern(r[1]),
                                              MirrorOf(r[3]), ParseU64(r[2])});
                         });
  if (!s.ok()) return s;
  std::sort(out.raw.begin(), out.raw.end(),
            [](const RawFact& a, const RawFact& b) { return a.id < b.id; });
  // BigQuery's streaming dedupe is best effort: an id twice counts once.
  out.raw.erase(std::unique(out.raw.begin(), out.raw.end(),
                            [](const RawFact& a, const RawFact& b) { return a.id == b.id; }),
                out.raw.end());
  auto add = [&](const std::vector<std::string_view>& r) {
    if (r.size() < 4) return;
    out.deliveries.push_back({KeyOf(r[0], out), out.vendors.Intern(r[1]),
                              r[2] == "delivered" || r[2] == "skipped", HashPrefix(r[3])});
  };
  s = BigQuery(d) ? ReadDeliveriesByJoin(d, start_ms, end_ms, add)
                  : ReadDeliveriesById(d, start_ms, end_ms, out, add);
  if (!s.ok()) return s;
  // Settled first within a pair: BigQuery's deliveries are append-only, so an
  // event backfilled after a failure has both rows, and the delivery stands.
  std::sort(out.deliveries.begin(), out.deliveries.end(),
            [](const DeliveryFact& a, const DeliveryFact& b) {
              if (a.id != b.id) return a.id < b.id;
              if (a.vendor != b.vendor) return a.vendor < b.vendor;
              return a.settled > b.settled;
            });
  out.deliveries.erase(std::unique(out.deliveries.begin(), out.deliveries.end(),
                                   [](const DeliveryFact& a, const DeliveryFact& b) {
                                     return a.id == b.id && a.vendor == b.vendor;
                                   }),
                       out.deliveries.end());
  // Only the deliveries of this window's raw events: the id range can hold
  // others (an event stamped by a direct caller, or one whose raw row is not
  // written yet), and the join never returns them.
  size_t kept = 0, r = 0;
  for (const DeliveryFact& f : out.deliveries) {
    while (r < out.raw.size() && out.raw[r].id < f.id) ++r;
    if (r < out.raw.size() && out.raw[r].id == f.id) out.deliveries[kept++] = f;
  }
  out.deliveries.resize(kept);
  return {};
}

Status ReadPayloads(Dataset& d, const std::vector<PayloadKey>& keys,
                    std::vector<std::pair<PayloadKey, std::string>>& out) {
  out.clear();
  std::string ids;
  for (const auto& key : keys) {
    const std::string& id = key.first;
    if (!PlainId(id)) continue;
    if (!ids.empty()) ids += ", ";
    ids += "'" + id + "'";
  }
  if (ids.empty()) return {};
  Rows rows;
  Status s = d.Query("SELECT tandem_id, vendor, payload FROM " + From(d, "deliveries") +
                         " WHERE tandem_id IN (" + ids + ") AND payload IS NOT NULL",
                     rows);
  if (!s.ok()) return s;
  for (auto& r : rows) {
    if (r.size() < 3) continue;
    PayloadKey key{std::move(r[0]), std::move(r[1])};
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
    out.emplace_back(std::move(key), std::move(r[2]));
  }
  return {};
}

Status FirstReceivedAt(Dataset& d, int64_t from_ms, int64_t& out) {
  out = -1;
  Rows rows;
  std::string column = BigQuery(d) ? "UNIX_MILLIS(MIN(received_at))" : "MIN(received_at)";
  Status s = d.Query("SELECT " + column + " FROM " + From(d, "raw") + " WHERE " +
                         TimeBetween(d, "received_at", from_ms, kLastTimestampMs),
                     rows);
  if (!s.ok()) return s;
  if (!rows.empty() && !rows[0].empty() && !rows[0][0].empty()) {
    out = std::strtoll(rows[0][0].c_str(), nullptr, 10);
  }
  return {};
}

}  // namespace tandem::compare
