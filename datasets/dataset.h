// A color's dataset, the single source of truth (SPEC section 5). One interface
// over SQLite and BigQuery, so the dispatcher, trace and compare use either.
// Every call is thread-safe and may block (callers run it off their I/O threads).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/color.h"
#include "common/status.h"

namespace tandem {

struct Config;

struct RawRow {
  std::string tandem_id;
  int64_t received_at_ms;
  std::string data;  // the body, byte for byte
  // What became of the candidate's copy (X-Tandem-Mirror): sent, sampled_out or
  // shed; empty: not said (NULL, read as sent).
  std::string mirror;
};

struct DeliveryRow {
  std::string tandem_id;
  std::string vendor;
  std::string outcome;  // delivered | failed | rejected | skipped
  int status_code;
  int attempts;
  int64_t at_ms;
  std::string payload_hash;  // hex SHA-256 of the vendor-bound payload
  std::string payload;       // that payload as JSON text; empty: not recorded (NULL)
};

struct RejectedRow {
  std::string tandem_id;
  std::string reason;
  int64_t at_ms;
};

// A row the dataset refuses for good (sending it again gets the same answer).
struct RefusedRow {
  size_t index;  // into the rows passed in
  std::string reason;
};

struct WriteResult {
  // Not ok: the batch failed as a whole and may be sent again (rows are
  // idempotent by key). Ok: every row is stored except those in `refused`.
  Status status;
  std::vector<RefusedRow> refused;
};

// A group's delivery and rejected rows, written together (InsertOutcomes).
struct OutcomesWriteResult {
  // As WriteResult's: not ok, nothing of the group may be relied on; ok, every
  // row is stored except those refused (indexes into each vector passed in).
  Status status;
  std::vector<RefusedRow> deliveries_refused;
  std::vector<RefusedRow> rejected_refused;
};

// Which SQL Query speaks.
enum class SqlDialect { kSqlite, kBigQuery };

class Dataset {
 public:
  virtual ~Dataset() = default;
  // Creates tables, view and indexes if missing; idempotent.
  virtual Status Bootstrap() = 0;
  // Whether the dataset holds every column this release reads and writes. An
  // older release's dataset: SQLite adds them (nullable); BigQuery answers an
  // error saying what to run. Compare calls it before it reads.
  virtual Status CheckSchema() { return {}; }
  // Idempotent by tandem_id: a row loaded twice is stored once.
  virtual WriteResult InsertRaw(const std::vector<RawRow>& rows) = 0;
  virtual WriteResult InsertDeliveries(const std::vector<DeliveryRow>& rows) = 0;
  virtual WriteResult InsertRejected(const std::vector<RejectedRow>& rows) = 0;
  // Both kinds of rows of one group. By default the two inserts above, one
  // after the other; SQLite makes it one transaction (one sync instead of two).
  virtual OutcomesWriteResult InsertOutcomes(const std::vector<DeliveryRow>& deliveries,
                                             const std::vector<RejectedRow>& rejected);
  // Runs a read-only SQL query (the dataset's own dialect); every cell as text, NULL as "".
  virtual Status Query(const std::string& sql, std::vector<std::vector<std::string>>& rows) = 0;
  // The same, one row at a time: the views are valid only during the call. For
  // large reads (compare's windows) without a copy of every cell.
  using RowFn = std::function<void(const std::vector<std::string_view>& row)>;
  virtual Status QueryEach(const std::string& sql, const RowFn& row);
  // How `table` (raw, deliveries, rejected, raw_normalized) is named in Query's SQL.
  virtual std::string Table(const std::string& table) const = 0;
  virtual SqlDialect dialect() const = 0;
};

// The dataset `color` is configured with. Throws on a config it cannot open (startup).
// A Unix-ms time as `d`'s dialect compares received_at with (BigQuery: a TIMESTAMP).
std::string TimeLiteral(const Dataset& d, const std::string& unix_ms);
// "column >= start AND column < end" in `d`'s dialect.
std::string TimeBetween(const Dataset& d, const std::string& column, int64_t start_ms,
                        int64_t end_ms);

std::unique_ptr<Dataset> OpenDataset(const Config& config, Color color);

}  // namespace tandem
