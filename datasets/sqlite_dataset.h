// The embedded dataset: SQLite in WAL mode, the tables and view of SPEC section 5.
#pragma once

#include <mutex>
#include <string>

#include "datasets/dataset.h"

struct sqlite3;
struct sqlite3_stmt;
struct sqlite3_context;
struct sqlite3_value;

namespace tandem {

class SqliteDataset : public Dataset {
 public:
  // Opens (creating) the file. Throws when it cannot be opened.
  explicit SqliteDataset(const std::string& path);
  ~SqliteDataset() override;

  Status Bootstrap() override;
  // Adds the columns newer releases read to a dataset an older one made (also
  // done, as far as it can be, when the file is opened).
  Status CheckSchema() override;
  WriteResult InsertRaw(const std::vector<RawRow>& rows) override;
  WriteResult InsertDeliveries(const std::vector<DeliveryRow>& rows) override;
  WriteResult InsertRejected(const std::vector<RejectedRow>& rows) override;
  OutcomesWriteResult InsertOutcomes(const std::vector<DeliveryRow>& deliveries,
                                     const std::vector<RejectedRow>& rejected) override;
  Status Query(const std::string& sql, std::vector<std::vector<std::string>>& rows) override;
  Status QueryEach(const std::string& sql, const RowFn& row) override;
  std::string Table(const std::string& table) const override { return table; }
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  // The schema, for docs and tests.
  static const char* Schema();

 private:
  static void Fingerprint(sqlite3_context* ctx, int argc, sqlite3_value** argv);
  static void TopLevelString(sqlite3_context* ctx, int argc, sqlite3_value** argv);
  // Binds one row's values; returns SQLITE_OK or the first bind error.
  template <class Row>
  using Binder = int (*)(sqlite3_stmt*, const Row&);
  template <class Row>
  WriteResult InsertAll(const char* sql, const std::vector<Row>& rows, Binder<Row> bind);
  // Inserts each row within the caller's transaction (mu_ held); returns the
  // first error that is not the row's own.
  template <class Row>
  int InsertEach(const char* sql, const std::vector<Row>& rows, Binder<Row> bind,
                 std::vector<RefusedRow>& refused);
  // BEGIN IMMEDIATE, `body`, then COMMIT, or ROLLBACK when it fails.
  template <class Body>
  Status InTransaction(Body body);
  Status Fail(int rc, const char* what);
  Status AddMissingColumns();  // with mu_ held

  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

}  // namespace tandem
