// Reading a SQLite dataset from a test, read-only, every cell as text; and
// writing one as another release would have.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tandem::testing {

using Row = std::map<std::string, std::string>;  // column -> value ("" for NULL)

// The rows `sql` returns; empty when the file or table does not exist (yet).
std::vector<Row> QueryRows(const std::string& db_path, const std::string& sql);

// Runs `sql` (several statements) on the file, creating it; "" or SQLite's error.
std::string ExecSql(const std::string& db_path, const std::string& sql);

}  // namespace tandem::testing
