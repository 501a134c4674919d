#include "compare/window_reader.h"

#include <algorithm>
#include <string_view>

namespace tandem::compare {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// BigQuery's TIMESTAMP ends in 9999.
constexpr int64_t kLastTimestampMs = 253402300799000;

bool BigQuery(const Dataset& d) { return d.dialect() == SqlDialect::kBigQuery; }

std::string From(const Dataset& d, const char* table) {
  return BigQuery(d) ? "`" + d.Table(table) + "`" : d.Table(table);
}

std::string ReceivedBetween(const Dataset& d, const std::string& column, int64_t start,
                            int64_t end) {
  std::string s = std::to_string(start), e = std::to_string(end);
  if (BigQuery(d)) {
    return column + " >= TIMESTAMP_MILLIS(" + s + ") AND " + column + " < TIMESTAMP_MILLIS(" + e +
           ")";
  }
  return column + " >= " + s + " AND " + column + " < " + e;
}

std::string EventName(const Dataset& d) {
  // json_extract raises an error on a malformed body (raw keeps those too).
  return BigQuery(d) ? "SAFE.JSON_EXTRACT_SCALAR(data, '$.event')"
                     : "CASE WHEN json_valid(data) THEN json_extract(data, '$.event') END";
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

Status ReadWindow(Dataset& d, int64_t start_ms, int64_t end_ms, Fingerprint fp, ColorWindow& out) {
  out.raw.clear();
  out.deliveries.clear();
  Rows rows;
  Status s =
      d.Query("SELECT tandem_id, " + EventName(d) + ", " + BodyFingerprint(d, fp) + " FROM " +
                  From(d, "raw") + " WHERE " + ReceivedBetween(d, "received_at", start_ms, end_ms),
              rows);
  if (!s.ok()) return s;
  out.raw.reserve(rows.size());
  for (auto& r : rows) {
    if (r.size() < 3) continue;
    out.raw[std::move(r[0])] = RawFacts{std::move(r[1]), std::move(r[2])};
  }
  s = d.Query("SELECT d.tandem_id, d.vendor, d.outcome, d.payload_hash FROM " +
                  From(d, "deliveries") + " d JOIN " + From(d, "raw") +
                  " r ON r.tandem_id = d.tandem_id WHERE " +
                  ReceivedBetween(d, "r.received_at", start_ms, end_ms),
              rows);
  if (!s.ok()) return s;
  for (auto& r : rows) {
    if (r.size() < 4) continue;
    auto& v = out.deliveries[std::move(r[0])];
    // BigQuery's streaming dedupe is best effort: a row twice counts once.
    auto same = std::find_if(v.begin(), v.end(), [&](const auto& f) { return f.vendor == r[1]; });
    if (same != v.end()) {
      *same = DeliveryFacts{std::move(r[1]), std::move(r[2]), std::move(r[3])};
    } else {
      v.push_back(DeliveryFacts{std::move(r[1]), std::move(r[2]), std::move(r[3])});
    }
  }
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
                         ReceivedBetween(d, "received_at", from_ms, kLastTimestampMs),
                     rows);
  if (!s.ok()) return s;
  if (!rows.empty() && !rows[0].empty() && !rows[0][0].empty()) {
    out = std::strtoll(rows[0][0].c_str(), nullptr, 10);
  }
  return {};
}

}  // namespace tandem::compare
