// A local stand-in for Google's OAuth token endpoint and BigQuery's REST API,
// over HTTPS: it verifies the JWT's RS256 signature against the service
// account's public key and the shapes of datasets.insert, tables.insert,
// tabledata.insertAll, tables.get / tables.patch and jobs.query /
// getQueryResults, and can inject faults. It keeps each table's schema:
// insertAll refuses a row with a field the schema lacks, a query naming a
// column a table lacks fails, and tables.patch may only add NULLABLE columns,
// as BigQuery does.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/https_stub.h"

namespace tandem::testing {

class BigQueryStub {
 public:
  explicit BigQueryStub(const TestPki& pki, int token_ttl_s = 3600);
  std::string url() const { return server_->url(); }
  std::string token_uri() const { return url() + "/token"; }

  void FailNextInserts(unsigned status, int count);
  void RejectRowsOnce(std::set<std::string> insert_ids);
  // These rows are refused for good (reason "invalid"), as BigQuery refuses a row
  // that does not match the table's schema.
  void RejectRowsAlways(std::set<std::string> insert_ids);
  // datasets.insert answers 503 this many times (a bootstrap that fails at start).
  void FailNextBootstraps(int count);
  void set_page_size(size_t n);
  // A table as an older release made it (dataset created if need be), with
  // these schema fields: bootstrap must then patch in what it lacks.
  void AddTable(const std::string& dataset, const std::string& table, nlohmann::json fields);
  nlohmann::json schema(const std::string& table) const;  // its fields
  // After a tables.patch, the next `insert_calls` insertAll calls still see the
  // old schema (a new column reaches streaming inserts some time later).
  void DelaySchemaChanges(int insert_calls);
  size_t patch_calls() const;
  void RevokeTokens();  // every issued token answers 401 from now on

  size_t token_requests() const;
  size_t insert_calls() const;
  size_t query_jobs() const;  // jobs.query calls
  size_t max_rows_per_insert() const;
  std::map<std::string, nlohmann::json> rows(const std::string& table) const;
  std::set<std::string> tables() const;
  std::vector<std::string> violations() const;  // requests that broke the documented shapes

 private:
  http::Response Handle(const http::Request& req);
  http::Response Token(const http::Request& req);
  http::Response Api(const http::Request& req, const std::string& path);
  bool VerifyJwt(const std::string& jwt, std::string& why);
  std::vector<nlohmann::json> Answer(const std::string& sql);
  http::Response Table(const http::Request& req, const std::string& table);
  std::string UnknownColumn(const std::string& sql) const;

  std::string public_pem_;
  int token_ttl_s_;
  mutable std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> tokens_;
  size_t token_requests_ = 0, insert_calls_ = 0, max_rows_ = 0, page_size_ = 2, jobs_ = 0;
  unsigned fail_status_ = 0;
  int fail_count_ = 0;
  std::set<std::string> reject_once_, reject_always_;
  int fail_bootstraps_ = 0;
  std::set<std::string> datasets_, tables_;
  std::map<std::string, nlohmann::json> schemas_;        // table -> schema fields
  std::map<std::string, nlohmann::json> stale_schemas_;  // before the last patch
  int schema_delay_ = 0, stale_inserts_left_ = 0;
  size_t patch_calls_ = 0;
  std::map<std::string, std::string> job_sql_;
  std::map<std::string, std::map<std::string, nlohmann::json>> rows_;
  std::vector<std::string> violations_;
  std::unique_ptr<HttpsStub> server_;
};

}  // namespace tandem::testing
