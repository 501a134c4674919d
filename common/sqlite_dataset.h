// The embedded dataset: SQLite in WAL mode, the tables and view of SPEC section 5.
#pragma once

#include <mutex>
#include <string>

#include "common/dataset.h"

struct sqlite3;

namespace tandem {

class SqliteDataset : public Dataset {
 public:
  // Opens (creating) the file. Throws when it cannot be opened.
  explicit SqliteDataset(const std::string& path);
  ~SqliteDataset() override;

  std::error_code Bootstrap() override;
  std::error_code InsertRaw(const std::vector<RawRow>& rows) override;
  std::error_code InsertDeliveries(const std::vector<DeliveryRow>& rows) override;
  std::error_code InsertRejected(const std::vector<RejectedRow>& rows) override;
  std::error_code Query(const std::string& sql,
                        std::vector<std::vector<std::string>>& rows) override;
  std::string last_error() const override;

  // The schema, for docs and tests.
  static const char* Schema();

 private:
  template <class Rows, class Bind>
  std::error_code InsertAll(const char* sql, const Rows& rows, Bind bind);
  std::error_code Fail(int rc);

  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
  std::string last_error_;
};

}  // namespace tandem
