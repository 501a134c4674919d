#include "datasets/sqlite_dataset.h"

#include <sqlite3.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string_view>

#include "common/json_member.h"
#include "datasets/added_columns.h"

namespace tandem {
namespace {

// json_extract raises an error on malformed JSON, so the view guards every call
// with json_valid: `raw` keeps invalid bodies too, byte for byte.
constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS raw (
  tandem_id   TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL,
  data        TEXT NOT NULL,
  mirror      TEXT
);
CREATE INDEX IF NOT EXISTS raw_received_at ON raw (received_at);
CREATE TABLE IF NOT EXISTS deliveries (
  tandem_id   TEXT NOT NULL,
  vendor      TEXT NOT NULL,
  outcome     TEXT NOT NULL,
  status_code INTEGER,
  attempts    INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  payload_hash TEXT,
  payload     TEXT,
  PRIMARY KEY (tandem_id, vendor)
);
CREATE INDEX IF NOT EXISTS deliveries_at ON deliveries (at);
CREATE TABLE IF NOT EXISTS rejected (
  tandem_id TEXT PRIMARY KEY,
  reason    TEXT NOT NULL,
  at        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rejected_at ON rejected (at);
CREATE VIEW IF NOT EXISTS raw_normalized AS
SELECT tandem_id,
       received_at,
       CASE WHEN json_valid(data) THEN json_extract(data, '$.event') END      AS event,
       CASE WHEN json_valid(data) THEN json_extract(data, '$.deviceId') END   AS device_id,
       CASE WHEN json_valid(data) THEN json_extract(data, '$.userId') END     AS user_id,
       CASE WHEN json_valid(data) THEN json_extract(data, '$.properties') END AS properties
FROM raw;
)SQL";

}  // namespace

const char* SqliteDataset::Schema() { return kSchema; }

// xxHash64's steps for 8-byte lanes and single bytes, then its avalanche: one
// pass, no allocation, 8 bytes a step. It only has to tell two colors' copies of
// one body apart within one comparison (not resist an adversary, nor match any
// stored value), and a cryptographic hash would cost more than the rest of a
// window's comparison. (A plain FNV multiply per word has fixed colliding
// patterns in the words' top bits; xxHash's rotations break them.)
void SqliteDataset::Fingerprint(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* p = static_cast<const unsigned char*>(sqlite3_value_blob(argv[0]));
  const auto n = static_cast<size_t>(sqlite3_value_bytes(argv[0]));
  constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull, kP2 = 0xC2B2AE3D27D4EB4Full,
                     kP3 = 0x165667B19E3779F9ull, kP4 = 0x85EBCA77C2B2AE63ull,
                     kP5 = 0x27D4EB2F165667C5ull;
  auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  uint64_t h = kP5 + n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, sizeof word);
    h ^= rotl(word * kP2, 31) * kP1;
    h = rotl(h, 27) * kP1 + kP4;
  }
  for (; i < n; ++i) h = rotl(h ^ (p[i] * kP5), 11) * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(h));
}

// tandem_top_level_string(json, key): the top-level string member `key` of
// `json` when a one-pass scan is certain of it (PlainTopLevelString), else NULL
// (the caller falls back to json_extract).
void SqliteDataset::TopLevelString(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* p = static_cast<const char*>(sqlite3_value_blob(argv[0]));
  const auto* k = static_cast<const char*>(sqlite3_value_blob(argv[1]));
  if (!p || !k) return sqlite3_result_null(ctx);
  auto v = PlainTopLevelString({p, static_cast<size_t>(sqlite3_value_bytes(argv[0]))},
                               {k, static_cast<size_t>(sqlite3_value_bytes(argv[1]))});
  if (!v) return sqlite3_result_null(ctx);
  sqlite3_result_text64(ctx, v->data(), v->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

SqliteDataset::SqliteDataset(const std::string& path) : path_(path) {
  // Memory statistics take one process-wide mutex on every allocation: with two
  // connections reading at once (compare reads both colors side by side) it
  // serializes them. Only possible before SQLite initializes; later it is a no-op.
  static const int kNoMemStatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)kNoMemStatus;
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  // NOMUTEX: every use of db_ holds mu_ already, and SQLite's own per-call
  // mutex would be taken again for each column of each row a query returns.
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error(path + ": cannot open the SQLite dataset: " + msg);
  }
  // WAL lets compare read while the loader writes; FULL makes a committed batch
  // survive power loss, since the loader's checkpoint moves past it right after.
  sqlite3_exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr);
  sqlite3_busy_timeout(db_, 1000);
  // tandem_fingerprint(x): what compare compares `data` by (BigQuery has
  // FARM_FINGERPRINT; SQLite has no hash function).
  sqlite3_create_function_v2(db_, "tandem_fingerprint", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                             nullptr, Fingerprint, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db_, "tandem_top_level_string", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                             nullptr, TopLevelString, nullptr, nullptr, nullptr);
  // An older release's file gains the newer columns on open. Not fatal here (a
  // writer may hold the file): Bootstrap and CheckSchema try again.
  (void)AddMissingColumns();
}

SqliteDataset::~SqliteDataset() { sqlite3_close(db_); }

namespace {

// Errors that are the row's own: sending it again gets the same answer.
bool RowIsRefused(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_TOOBIG || primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH ||
         primary == SQLITE_RANGE;
}

int BindText(sqlite3_stmt* st, int i, const std::string& s) {
  // Bound as TEXT with its length: SQLite stores the bytes as they are.
  return sqlite3_bind_text64(st, i, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
}

}  // namespace

Status SqliteDataset::Fail(int rc, const char* what) {
  std::string detail = std::string(what) + ": " + sqlite3_errmsg(db_);
  int primary = rc & 0xff;
  bool busy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
  return {
      std::make_error_code(busy ? std::errc::resource_unavailable_try_again : std::errc::io_error),
      detail};
}

Status SqliteDataset::Bootstrap() {
  std::lock_guard<std::mutex> l(mu_);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, kSchema, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string detail = std::string("create the schema: ") + (err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return {std::make_error_code(std::errc::io_error), detail};
  }
  return AddMissingColumns();
}

Status SqliteDataset::CheckSchema() {
  std::lock_guard<std::mutex> l(mu_);
  return AddMissingColumns();
}

// A dataset an older release made lacks the columns added since (added_columns.h).
// Tables not there yet are left to Bootstrap, which creates them whole.
Status SqliteDataset::AddMissingColumns() {
  for (const AddedColumn& col : kAddedColumns) {
    bool table_exists = false, has_column = false;
    auto read = [&] {
      table_exists = has_column = false;
      sqlite3_stmt* st = nullptr;
      std::string sql = std::string("PRAGMA table_info(") + col.table + ")";
      int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
      while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        table_exists = true;
        const char* name = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
        if (name && std::string_view(name) == col.name) has_column = true;
        rc = SQLITE_OK;
      }
      sqlite3_finalize(st);
      return rc == SQLITE_DONE ? SQLITE_OK : rc;
    };
    if (int rc = read(); rc != SQLITE_OK) return Fail(rc, "read the table's columns");
    if (!table_exists || has_column) continue;
    std::string alter =
        std::string("ALTER TABLE ") + col.table + " ADD COLUMN " + col.name + " " + col.sqlite_type;
    int rc = sqlite3_exec(db_, alter.c_str(), nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) continue;
    Status failed = Fail(rc, "add a column a newer release needs");  // before another statement
    // Another process (the dispatcher and trace open the same file) may have added it first.
    if (read() != SQLITE_OK || !has_column) return failed;
  }
  return {};
}

template <class Body>
Status SqliteDataset::InTransaction(Body body) {
  std::lock_guard<std::mutex> l(mu_);
  int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Fail(rc, "begin");
  rc = body();
  if (rc == SQLITE_OK) rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return {};
  Status s = Fail(rc, "insert");
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
}

// A row SQLite refuses for its own sake (too big, a constraint) is reported and
// skipped; any other error stops the insert.
template <class Row>
int SqliteDataset::InsertEach(const char* sql, const std::vector<Row>& rows, Binder<Row> bind,
                              std::vector<RefusedRow>& refused) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &st, nullptr);
  for (size_t i = 0; rc == SQLITE_OK && i < rows.size(); ++i) {
    rc = bind(st, rows[i]);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
    if (RowIsRefused(rc)) {
      refused.push_back({i, std::string("sqlite: ") + sqlite3_errstr(rc)});
      rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  sqlite3_finalize(st);
  return rc;
}

// One transaction for the batch; when it fails nothing of it is stored.
template <class Row>
WriteResult SqliteDataset::InsertAll(const char* sql, const std::vector<Row>& rows,
                                     Binder<Row> bind) {
  WriteResult out;
  out.status = InTransaction([&] { return InsertEach(sql, rows, bind, out.refused); });
  if (!out.status.ok()) out.refused.clear();
  return out;
}

namespace {

constexpr const char* kInsertDelivery =
    "INSERT OR REPLACE INTO deliveries "
    "(tandem_id, vendor, outcome, status_code, attempts, at, payload_hash, payload) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertRejected =
    "INSERT OR REPLACE INTO rejected (tandem_id, reason, at) VALUES (?, ?, ?)";

int BindDelivery(sqlite3_stmt* st, const DeliveryRow& r) {
  int rc = BindText(st, 1, r.tandem_id);
  if (rc == SQLITE_OK) rc = BindText(st, 2, r.vendor);
  if (rc == SQLITE_OK) rc = BindText(st, 3, r.outcome);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, 4, r.status_code);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, 5, r.attempts);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 6, r.at_ms);
  if (rc == SQLITE_OK) rc = BindText(st, 7, r.payload_hash);
  if (rc == SQLITE_OK) {
    rc = r.payload.empty() ? sqlite3_bind_null(st, 8) : BindText(st, 8, r.payload);
  }
  return rc;
}

int BindRejected(sqlite3_stmt* st, const RejectedRow& r) {
  int rc = BindText(st, 1, r.tandem_id);
  if (rc == SQLITE_OK) rc = BindText(st, 2, r.reason);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 3, r.at_ms);
  return rc;
}

}  // namespace

WriteResult SqliteDataset::InsertRaw(const std::vector<RawRow>& rows) {
  return InsertAll<RawRow>(
      "INSERT OR IGNORE INTO raw (tandem_id, received_at, data, mirror) VALUES (?, ?, ?, ?)", rows,
      [](sqlite3_stmt* st, const RawRow& r) {
        int rc = BindText(st, 1, r.tandem_id);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 2, r.received_at_ms);
        if (rc == SQLITE_OK) rc = BindText(st, 3, r.data);
        if (rc == SQLITE_OK)
          rc = r.mirror.empty() ? sqlite3_bind_null(st, 4) : BindText(st, 4, r.mirror);
        return rc;
      });
}

WriteResult SqliteDataset::InsertDeliveries(const std::vector<DeliveryRow>& rows) {
  return InsertAll<DeliveryRow>(kInsertDelivery, rows, BindDelivery);
}

WriteResult SqliteDataset::InsertRejected(const std::vector<RejectedRow>& rows) {
  return InsertAll<RejectedRow>(kInsertRejected, rows, BindRejected);
}

// Trace writes a group every few milliseconds, nearly always with both kinds of
// rows: one transaction is one WAL sync instead of two, and a reader never sees
// a group's deliveries without its rejected rows.
OutcomesWriteResult SqliteDataset::InsertOutcomes(const std::vector<DeliveryRow>& deliveries,
                                                  const std::vector<RejectedRow>& rejected) {
  OutcomesWriteResult out;
  if (deliveries.empty() && rejected.empty()) return out;
  out.status = InTransaction([&] {
    int rc = SQLITE_OK;
    if (!deliveries.empty())
      rc = InsertEach<DeliveryRow>(kInsertDelivery, deliveries, BindDelivery,
                                   out.deliveries_refused);
    if (rc == SQLITE_OK && !rejected.empty())
      rc = InsertEach<RejectedRow>(kInsertRejected, rejected, BindRejected, out.rejected_refused);
    return rc;
  });
  if (!out.status.ok()) {
    out.deliveries_refused.clear();
    out.rejected_refused.clear();
  }
  return out;
}

Status SqliteDataset::Query(const std::string& sql, std::vector<std::vector<std::string>>& rows) {
  rows.clear();
  return QueryEach(sql, [&rows](const std::vector<std::string_view>& row) {
    rows.emplace_back(row.begin(), row.end());
  });
}

Status SqliteDataset::QueryEach(const std::string& sql, const RowFn& row) {
  std::lock_guard<std::mutex> l(mu_);
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
  std::vector<std::string_view> cells;
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    cells.clear();
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const char* v = reinterpret_cast<const char*>(sqlite3_column_blob(st, i));
      cells.emplace_back(v ? v : "", static_cast<size_t>(sqlite3_column_bytes(st, i)));
    }
    row(cells);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Fail(rc, "query");
  return {};
}

}  // namespace tandem
