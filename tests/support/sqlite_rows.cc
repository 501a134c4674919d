#include "tests/support/sqlite_rows.h"

#include <sqlite3.h>

namespace tandem::testing {

std::vector<Row> QueryRows(const std::string& db_path, const std::string& sql) {
  std::vector<Row> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      Row row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const char* v = reinterpret_cast<const char*>(sqlite3_column_blob(st, i));
        row[sqlite3_column_name(st, i)] =
            std::string(v ? v : "", static_cast<size_t>(sqlite3_column_bytes(st, i)));
      }
      out.push_back(std::move(row));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string ExecSql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
  } else {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      error = err ? err : "error";
      sqlite3_free(err);
    }
  }
  sqlite3_close(db);
  return error;
}

}  // namespace tandem::testing
