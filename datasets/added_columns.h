// The columns a release added to a table after the first one, all nullable, so
// a dataset an older release wrote gains them on upgrade (SPEC section 5):
// SQLite when it is opened, BigQuery by `tandem bigquery bootstrap` (and every
// dataset's bootstrap, which the dispatcher and trace run at start). A column
// is never removed or retyped here: BigQuery only adds NULLABLE columns.
#pragma once

namespace tandem {

struct AddedColumn {
  const char* table;
  const char* name;
  const char* sqlite_type;
  const char* bigquery_type;
};

inline constexpr AddedColumn kAddedColumns[] = {
    {"deliveries", "payload_hash", "TEXT", "STRING"},  // payload hashes
    {"deliveries", "payload", "TEXT", "STRING"},       // recorded payloads
    {"raw", "mirror", "TEXT", "STRING"},               // sampling by device
};

}  // namespace tandem
