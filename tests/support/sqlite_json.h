#pragma once

// What compare asked SQLite for a body's event name before the one-pass scan:
// json_extract on a valid body, else NULL. Shared by the differential unit test
// and the fuzz target (header only: the fuzz build has no test support library).
#include <string>
#include <vector>

#include "datasets/sqlite_dataset.h"

namespace tandem::testing {

// "typeof|value" of CASE WHEN json_valid(body) THEN json_extract(body, path) END;
// "error" when the query fails. The body goes in as hex: any bytes, NULs too.
inline std::string SqliteJsonExtract(SqliteDataset& db, const std::string& body,
                                     const std::string& path) {
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : body) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  std::string x = "CAST(X'" + hex + "' AS TEXT)";
  std::vector<std::vector<std::string>> rows;
  Status s = db.Query("SELECT typeof(v), v FROM (SELECT CASE WHEN json_valid(" + x +
                          ") THEN json_extract(" + x + ", '" + path + "') END AS v)",
                      rows);
  if (!s.ok() || rows.size() != 1 || rows[0].size() != 2) return "error";
  return rows[0][0] + "|" + rows[0][1];
}

}  // namespace tandem::testing
