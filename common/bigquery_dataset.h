// A color's dataset in BigQuery, over its REST API: tables.insert and
// datasets.insert for bootstrap, streaming tabledata.insertAll (at most 500 rows
// and well under 10 MB per request, insertId = tandem id, row-level insertErrors
// retried), jobs.query with jobComplete polling and pageToken paging.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "common/dataset.h"
#include "common/google_auth.h"
#include "common/sync_client.h"

namespace tandem {

class BigQueryDataset : public Dataset {
 public:
  static constexpr size_t kMaxRowsPerInsert = 500;
  static constexpr size_t kMaxBytesPerInsert = 8 << 20;

  // Reads the service-account key; throws when it is missing or malformed.
  BigQueryDataset(const DatasetConfig& config, Color color, const std::string& ca_file);

  std::error_code Bootstrap() override;
  std::error_code InsertRaw(const std::vector<RawRow>& rows) override;
  std::error_code InsertDeliveries(const std::vector<DeliveryRow>& rows) override;
  std::error_code InsertRejected(const std::vector<RejectedRow>& rows) override;
  std::error_code Query(const std::string& sql,
                        std::vector<std::vector<std::string>>& rows) override;
  std::string last_error() const override;

  const std::string& dataset_id() const { return dataset_; }

 private:
  struct Reply {
    std::error_code ec;
    unsigned status = 0;
    nlohmann::json body;
  };
  // One authorized REST call; a 401 refreshes the token and tries once more.
  Reply Call(http::Verb verb, const std::string& path, const nlohmann::json* body);
  std::error_code InsertAll(const std::string& table,
                            std::vector<std::pair<std::string, nlohmann::json>> rows);
  std::error_code InsertChunk(const std::string& table,
                              std::vector<std::pair<std::string, nlohmann::json>>& rows);
  std::error_code Fail(const std::string& what, const Reply& r);

  std::string project_, dataset_, location_, prefix_;
  TokenSource tokens_;
  std::mutex mu_;  // one REST call at a time per dataset (the client is blocking)
  http::SyncClient client_;
  mutable std::mutex err_mu_;
  std::string last_error_;
};

}  // namespace tandem
