// A color's dataset, the single source of truth (SPEC section 5). One interface
// over SQLite and BigQuery, so the dispatcher, trace and compare use either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "common/config.h"

namespace tandem {

struct RawRow {
  std::string tandem_id;
  int64_t received_at_ms;
  std::string data;  // the body, byte for byte
};

struct DeliveryRow {
  std::string tandem_id;
  std::string vendor;
  std::string outcome;  // delivered | failed | rejected | skipped
  int status_code;
  int attempts;
  int64_t at_ms;
};

struct RejectedRow {
  std::string tandem_id;
  std::string reason;
  int64_t at_ms;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  // Creates tables, view and indexes if missing. May block; startup and bootstrap only.
  virtual std::error_code Bootstrap() = 0;
  // Idempotent by tandem_id: a row loaded twice is stored once.
  virtual std::error_code InsertRaw(const std::vector<RawRow>& rows) = 0;
  virtual std::error_code InsertDeliveries(const std::vector<DeliveryRow>& rows) = 0;
  virtual std::error_code InsertRejected(const std::vector<RejectedRow>& rows) = 0;
  // Runs a read-only SQL query (the dataset's own dialect); every cell as text, NULL as "".
  virtual std::error_code Query(const std::string& sql,
                                std::vector<std::vector<std::string>>& rows) = 0;
  // A human-readable detail for the last error (SQLite's message, BigQuery's answer).
  virtual std::string last_error() const = 0;
};

// The dataset `color` is configured with. Throws on a config it cannot open.
std::unique_ptr<Dataset> OpenDataset(const Config& config, Color color);

}  // namespace tandem
