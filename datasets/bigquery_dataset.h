// A color's dataset in BigQuery, over its REST API: tables.insert and
// datasets.insert for bootstrap, streaming tabledata.insertAll (at most 500 rows
// and well under 10 MB per request, insertId = tandem id, row-level insertErrors
// retried), jobs.query with jobComplete polling and pageToken paging.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "common/config.h"
#include "common/sync_client.h"
#include "datasets/dataset.h"
#include "datasets/google_auth.h"

namespace tandem {

class BigQueryDataset : public Dataset {
 public:
  static constexpr size_t kMaxRowsPerInsert = 500;
  static constexpr size_t kMaxBytesPerInsert = 8 << 20;

  // Reads the service-account key; throws when it is missing or malformed.
  BigQueryDataset(const DatasetConfig& config, Color color, const std::string& ca_file);

  Status Bootstrap() override;
  // tables.get of raw and deliveries: an error naming the missing columns and
  // the command that adds them when an older release made the tables.
  Status CheckSchema() override;
  WriteResult InsertRaw(const std::vector<RawRow>& rows) override;
  WriteResult InsertDeliveries(const std::vector<DeliveryRow>& rows) override;
  WriteResult InsertRejected(const std::vector<RejectedRow>& rows) override;
  Status Query(const std::string& sql, std::vector<std::vector<std::string>>& rows) override;
  SqlDialect dialect() const override { return SqlDialect::kBigQuery; }
  std::string Table(const std::string& table) const override {
    return "`" + project_ + "." + dataset_ + "." + table + "`";
  }

  const std::string& dataset_id() const { return dataset_; }

 private:
  struct Reply {
    Status status;  // transport or token failure; an HTTP answer is in `code`
    unsigned code = 0;
    nlohmann::json body;
  };
  // (insertId, row) pairs with their index in the caller's rows.
  struct Pending {
    size_t index;
    std::string insert_id;
    nlohmann::json row;
  };
  // One authorized REST call; a 401 refreshes the token and tries once more.
  Reply Call(http::Verb verb, const std::string& path, const nlohmann::json* body);
  WriteResult InsertAll(const std::string& table, std::vector<Pending> rows);
  Status InsertChunk(const std::string& table, std::vector<Pending> rows, WriteResult& out,
                     int depth);
  static Status Failed(const std::string& what, const Reply& r);
  // The columns of added_columns.h `table` lacks (tables.get); fills `fields`
  // with the table's own schema fields.
  Status MissingColumns(const std::string& table, nlohmann::json& fields,
                        std::vector<std::string>& missing);
  // tables.patch: the table's fields plus the missing ones, NULLABLE.
  Status AddColumns(const std::string& table);

  std::string project_, dataset_, location_, prefix_;
  Color color_;
  TokenSource tokens_;
  std::mutex mu_;  // one REST call at a time per dataset (the client is blocking)
  // When this process's bootstrap last added columns (steady clock, ns; 0:
  // never): rows naming them are retried, not refused, while the schema settles.
  std::atomic<int64_t> columns_added_at_ns_{0};
  http::SyncClient client_;
};

}  // namespace tandem
