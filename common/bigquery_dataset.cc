#include "common/bigquery_dataset.h"

#include <thread>

#include "common/url_encode.h"

namespace tandem {
namespace {

using json = nlohmann::json;

json Field(const char* name, const char* type, bool required) {
  return {{"name", name}, {"type", type}, {"mode", required ? "REQUIRED" : "NULLABLE"}};
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

bool Retryable(unsigned status) { return status == 429 || status >= 500; }

}  // namespace

BigQueryDataset::BigQueryDataset(const DatasetConfig& c, Color color, const std::string& ca_file)
    : project_(c.project),
      dataset_(ForColor(c.dataset, color)),
      location_(c.location),
      prefix_("/bigquery/v2/projects/" + c.project),
      tokens_(
          [&] {
            ServiceAccount sa = LoadServiceAccount(c.credentials_file);
            sa.token_uri = c.token_uri;  // the configured endpoint wins (tests, private endpoints)
            return sa;
          }(),
          TokenSource::kBigQueryScope, ca_file),
      client_(c.endpoint, ca_file) {}

std::string BigQueryDataset::last_error() const {
  std::lock_guard<std::mutex> l(err_mu_);
  return last_error_;
}

std::error_code BigQueryDataset::Fail(const std::string& what, const Reply& r) {
  std::lock_guard<std::mutex> l(err_mu_);
  last_error_ = what + ": " +
                (r.ec ? r.ec.message()
                      : "status " + std::to_string(r.status) + " " + r.body.dump().substr(0, 300));
  if (r.ec) return r.ec;
  return std::make_error_code(Retryable(r.status) ? std::errc::resource_unavailable_try_again
                                                  : std::errc::io_error);
}

BigQueryDataset::Reply BigQueryDataset::Call(http::Verb verb, const std::string& path,
                                             const json* body) {
  Reply out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string token;
    if (auto ec = tokens_.Token(token)) {
      out.ec = ec;
      std::lock_guard<std::mutex> l(err_mu_);
      last_error_ = tokens_.last_error();
      return out;
    }
    http::Request req{verb, path, 11};
    req.set(http::Field::authorization, "Bearer " + token);
    req.set(http::Field::accept, "application/json");
    if (body) {
      req.set(http::Field::content_type, "application/json");
      req.body() = body->dump(-1, ' ', false, json::error_handler_t::replace);
    }
    http::SyncResult r;
    {
      std::lock_guard<std::mutex> l(mu_);
      r = client_.Send(std::move(req), std::chrono::seconds(60));
    }
    if (r.ec) {
      out.ec = std::make_error_code(std::errc::host_unreachable);
      std::lock_guard<std::mutex> l(err_mu_);
      last_error_ = "BigQuery: " + r.ec.message();
      return out;
    }
    out.status = r.res.result_int();
    out.body = json::parse(r.res.body(), nullptr, false);
    if (out.status == 401 && attempt == 0) {
      tokens_.Invalidate();  // revoked or expired early: one fresh token, one more try
      continue;
    }
    return out;
  }
  return out;
}

std::error_code BigQueryDataset::Bootstrap() {
  json ds = {{"datasetReference", {{"projectId", project_}, {"datasetId", dataset_}}}};
  if (!location_.empty()) ds["location"] = location_;
  Reply r = Call(http::Verb::post, prefix_ + "/datasets", &ds);
  if (r.ec || (r.status != 200 && r.status != 409)) return Fail("datasets.insert", r);

  auto table = [&](const char* name, json fields, bool partitioned) {
    json t = {
        {"tableReference", {{"projectId", project_}, {"datasetId", dataset_}, {"tableId", name}}},
        {"schema", {{"fields", fields}}}};
    if (partitioned) t["timePartitioning"] = {{"type", "DAY"}, {"field", "received_at"}};
    return t;
  };
  std::vector<json> tables = {
      table("raw",
            {Field("tandem_id", "STRING", true), Field("received_at", "TIMESTAMP", true),
             Field("data", "STRING", true)},
            true),
      table("deliveries",
            {Field("tandem_id", "STRING", true), Field("vendor", "STRING", true),
             Field("outcome", "STRING", true), Field("status_code", "INTEGER", false),
             Field("attempts", "INTEGER", true), Field("at", "TIMESTAMP", true)},
            false),
      table("rejected",
            {Field("tandem_id", "STRING", true), Field("reason", "STRING", true),
             Field("at", "TIMESTAMP", true)},
            false),
  };
  std::string raw = "`" + project_ + "." + dataset_ + ".raw`";
  tables.push_back(
      {{"tableReference",
        {{"projectId", project_}, {"datasetId", dataset_}, {"tableId", "raw_normalized"}}},
       {"view",
        {{"useLegacySql", false},
         {"query",
          "SELECT tandem_id, received_at, JSON_EXTRACT_SCALAR(data, '$.event') AS event, "
          "JSON_EXTRACT_SCALAR(data, '$.deviceId') AS device_id, "
          "JSON_EXTRACT_SCALAR(data, '$.userId') AS user_id, "
          "JSON_EXTRACT(data, '$.properties') AS properties FROM " +
              raw}}}});
  for (const json& t : tables) {
    r = Call(http::Verb::post, prefix_ + "/datasets/" + dataset_ + "/tables", &t);
    if (r.ec || (r.status != 200 && r.status != 409))
      return Fail("tables.insert " + t["tableReference"]["tableId"].get<std::string>(), r);
  }
  return {};
}

std::error_code BigQueryDataset::InsertChunk(const std::string& table,
                                             std::vector<std::pair<std::string, json>>& rows) {
  // Row-level errors: only the rows BigQuery names are sent again; a few quick
  // tries here, then the caller's backoff takes over.
  for (int attempt = 0; attempt < 4 && !rows.empty(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
    json req = {{"kind", "bigquery#tableDataInsertAllRequest"},
                {"skipInvalidRows", false},
                {"ignoreUnknownValues", false},
                {"rows", json::array()}};
    for (const auto& [id, row] : rows) req["rows"].push_back({{"insertId", id}, {"json", row}});
    Reply r = Call(http::Verb::post,
                   prefix_ + "/datasets/" + dataset_ + "/tables/" + table + "/insertAll", &req);
    // A 200 whose body is not a JSON object is not proof the rows landed.
    if (r.ec || r.status != 200 || !r.body.is_object()) return Fail("insertAll " + table, r);
    if (!r.body.contains("insertErrors") || r.body.at("insertErrors").empty()) {
      rows.clear();
      return {};
    }
    const json& errors = r.body.at("insertErrors");
    std::vector<std::pair<std::string, json>> again;
    std::vector<bool> taken(rows.size(), false);
    for (const auto& e : errors.is_array() ? errors : json::array()) {
      if (!e.is_object() || !e.contains("index") || !e.at("index").is_number_unsigned()) continue;
      size_t i = e.at("index").get<size_t>();
      if (i < rows.size() && !taken[i]) {
        taken[i] = true;
        again.push_back(std::move(rows[i]));
      }
    }
    if (again.empty())
      again = std::move(rows);  // errors we cannot map to rows: send them all again
    {
      std::lock_guard<std::mutex> l(err_mu_);
      last_error_ = "insertAll " + table + ": " + std::to_string(again.size()) +
                    " rows failed: " + errors.dump().substr(0, 300);
    }
    rows = std::move(again);
  }
  return rows.empty() ? std::error_code()
                      : std::make_error_code(std::errc::resource_unavailable_try_again);
}

std::error_code BigQueryDataset::InsertAll(const std::string& table,
                                           std::vector<std::pair<std::string, json>> rows) {
  size_t i = 0;
  while (i < rows.size()) {
    std::vector<std::pair<std::string, json>> chunk;
    size_t bytes = 0;
    while (i < rows.size() && chunk.size() < kMaxRowsPerInsert) {
      size_t sz = rows[i].second.dump(-1, ' ', false, json::error_handler_t::replace).size() +
                  rows[i].first.size() + 32;
      if (!chunk.empty() && bytes + sz > kMaxBytesPerInsert) break;
      bytes += sz;
      chunk.push_back(std::move(rows[i++]));
    }
    if (auto ec = InsertChunk(table, chunk)) return ec;
  }
  return {};
}

std::error_code BigQueryDataset::InsertRaw(const std::vector<RawRow>& rows) {
  std::vector<std::pair<std::string, json>> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.emplace_back(r.tandem_id, json{{"tandem_id", r.tandem_id},
                                       {"received_at", Seconds(r.received_at_ms)},
                                       {"data", r.data}});
  }
  return InsertAll("raw", std::move(out));
}

std::error_code BigQueryDataset::InsertDeliveries(const std::vector<DeliveryRow>& rows) {
  std::vector<std::pair<std::string, json>> out;
  for (const auto& r : rows) {
    out.emplace_back(r.tandem_id + "/" + r.vendor, json{{"tandem_id", r.tandem_id},
                                                        {"vendor", r.vendor},
                                                        {"outcome", r.outcome},
                                                        {"status_code", r.status_code},
                                                        {"attempts", r.attempts},
                                                        {"at", Seconds(r.at_ms)}});
  }
  return InsertAll("deliveries", std::move(out));
}

std::error_code BigQueryDataset::InsertRejected(const std::vector<RejectedRow>& rows) {
  std::vector<std::pair<std::string, json>> out;
  for (const auto& r : rows) {
    out.emplace_back(
        r.tandem_id,
        json{{"tandem_id", r.tandem_id}, {"reason", r.reason}, {"at", Seconds(r.at_ms)}});
  }
  return InsertAll("rejected", std::move(out));
}

std::error_code BigQueryDataset::Query(const std::string& sql,
                                       std::vector<std::vector<std::string>>& rows) {
  rows.clear();
  json req = {{"query", sql}, {"useLegacySql", false}, {"timeoutMs", 10000}, {"maxResults", 10000}};
  if (!location_.empty()) req["location"] = location_;
  Reply r = Call(http::Verb::post, prefix_ + "/queries", &req);
  if (r.ec || r.status != 200 || !r.body.is_object()) return Fail("jobs.query", r);
  // BigQuery's answers are outside data: every field is type-checked, so a
  // malformed answer is an error or an empty cell, never an exception.
  auto str = [](const json& obj, const char* key, const std::string& fallback) {
    return obj.is_object() && obj.contains(key) && obj.at(key).is_string()
               ? obj.at(key).get<std::string>()
               : fallback;
  };
  const json no_ref = json::object();
  const json& ref = r.body.contains("jobReference") ? r.body.at("jobReference") : no_ref;
  std::string job = str(ref, "jobId", "");
  std::string location = str(ref, "location", location_);
  // Polls until the job completes, then follows pageToken to the last page (bounded).
  for (int page = 0; page < 100000; ++page) {
    bool complete = r.body.contains("jobComplete") && r.body.at("jobComplete").is_boolean() &&
                    r.body.at("jobComplete").get<bool>();
    if (complete && r.body.contains("rows") && r.body.at("rows").is_array()) {
      for (const auto& row : r.body.at("rows")) {
        std::vector<std::string> cells;
        if (row.is_object() && row.contains("f") && row.at("f").is_array()) {
          for (const auto& f : row.at("f")) cells.push_back(str(f, "v", ""));
        }
        rows.push_back(std::move(cells));
      }
    }
    std::string token = complete ? str(r.body, "pageToken", "") : "";
    if (complete && token.empty()) return {};
    if (job.empty()) return Fail("jobs.query: no jobReference", r);
    std::string path = prefix_ + "/queries/" + job + "?timeoutMs=10000&maxResults=10000";
    if (!location.empty()) path += "&location=" + PercentEncode(location);
    if (!token.empty()) path += "&pageToken=" + PercentEncode(token);
    r = Call(http::Verb::get, path, nullptr);
    if (r.ec || r.status != 200 || !r.body.is_object()) return Fail("jobs.getQueryResults", r);
  }
  return std::make_error_code(std::errc::result_out_of_range);
}

}  // namespace tandem
