#include "datasets/bigquery_dataset.h"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "common/url_encode.h"
#include "datasets/added_columns.h"

namespace tandem {
namespace {

using json = nlohmann::json;

json Field(const char* name, const char* type, bool required) {
  return {{"name", name}, {"type", type}, {"mode", required ? "REQUIRED" : "NULLABLE"}};
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

bool Retryable(unsigned status) { return status == 429 || status >= 500; }

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Url EndpointUrl(const std::string& endpoint) {
  auto u = Url::Parse(endpoint);
  if (!u || !u->tls) {
    throw std::runtime_error("BigQuery endpoint must be an https:// URL, got '" + endpoint + "'");
  }
  return *u;
}

ServiceAccount AccountFor(const DatasetConfig& c) {
  ServiceAccount sa = LoadServiceAccount(c.credentials_file);
  if (!c.token_uri.empty()) sa.token_uri = c.token_uri;  // the config overrides the key file
  return sa;
}

}  // namespace

BigQueryDataset::BigQueryDataset(const DatasetConfig& c, Color color, const std::string& ca_file)
    : project_(c.project),
      dataset_(ForColor(c.dataset, color)),
      location_(c.location),
      prefix_("/bigquery/v2/projects/" + c.project),
      color_(color),
      tokens_(AccountFor(c), TokenSource::kBigQueryScope, ca_file),
      client_(EndpointUrl(c.endpoint), ca_file) {}

Status BigQueryDataset::Failed(const std::string& what, const Reply& r) {
  if (!r.status.ok()) return {r.status.code(), what + ": " + r.status.detail()};
  std::string detail =
      what + ": status " + std::to_string(r.code) + " " + r.body.dump().substr(0, 300);
  return {std::make_error_code(Retryable(r.code) ? std::errc::resource_unavailable_try_again
                                                 : std::errc::io_error),
          detail};
}

BigQueryDataset::Reply BigQueryDataset::Call(http::Verb verb, const std::string& path,
                                             const json* body) {
  Reply out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string token;
    if (Status st = tokens_.Token(token); !st.ok()) {
      out.status = st;
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
      out.status = {std::make_error_code(std::errc::host_unreachable),
                    "BigQuery: " + r.ec.message()};
      return out;
    }
    out.code = r.res.result_int();
    out.body = json::parse(r.res.body(), nullptr, false);
    if (out.code == 401 && attempt == 0) {
      tokens_.Invalidate();  // revoked or expired early: one fresh token, one more try
      continue;
    }
    return out;
  }
  return out;
}

Status BigQueryDataset::Bootstrap() {
  json ds = {{"datasetReference", {{"projectId", project_}, {"datasetId", dataset_}}}};
  if (!location_.empty()) ds["location"] = location_;
  Reply r = Call(http::Verb::post, prefix_ + "/datasets", &ds);
  if (!r.status.ok() || (r.code != 200 && r.code != 409)) return Failed("datasets.insert", r);

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
             Field("data", "STRING", true), Field("mirror", "STRING", false)},
            true),
      table("deliveries",
            {Field("tandem_id", "STRING", true), Field("vendor", "STRING", true),
             Field("outcome", "STRING", true), Field("status_code", "INTEGER", false),
             Field("attempts", "INTEGER", true), Field("at", "TIMESTAMP", true),
             Field("payload_hash", "STRING", false), Field("payload", "STRING", false)},
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
    const std::string id = t["tableReference"]["tableId"].get<std::string>();
    r = Call(http::Verb::post, prefix_ + "/datasets/" + dataset_ + "/tables", &t);
    if (!r.status.ok() || (r.code != 200 && r.code != 409)) return Failed("tables.insert " + id, r);
    // 409: the table is there, perhaps as an older release made it.
    if (r.code == 409 && !t.contains("view")) {
      if (Status st = AddColumns(id); !st.ok()) return st;
    }
  }
  return {};
}

Status BigQueryDataset::MissingColumns(const std::string& table, json& fields,
                                       std::vector<std::string>& missing) {
  Reply r = Call(http::Verb::get, prefix_ + "/datasets/" + dataset_ + "/tables/" + table, nullptr);
  if (!r.status.ok() || r.code != 200 || !r.body.is_object())
    return Failed("tables.get " + table, r);
  fields = json::array();
  if (r.body.contains("schema") && r.body["schema"].is_object() &&
      r.body["schema"].contains("fields") && r.body["schema"]["fields"].is_array())
    fields = r.body["schema"]["fields"];
  missing.clear();
  for (const AddedColumn& col : kAddedColumns) {
    if (table != col.table) continue;
    bool found = std::any_of(fields.begin(), fields.end(), [&](const json& f) {
      return f.is_object() && f.contains("name") && f["name"] == col.name;
    });
    if (!found) missing.push_back(col.name);
  }
  return {};
}

// "If you add new columns to an existing table schema, the columns must be
// NULLABLE or REPEATED" (cloud.google.com/bigquery/docs/managing-table-schemas,
// "Add an empty column"), by tables.patch with the whole new schema: the
// table's own fields, unchanged, then the new ones.
Status BigQueryDataset::AddColumns(const std::string& table) {
  json fields;
  std::vector<std::string> missing;
  if (Status st = MissingColumns(table, fields, missing); !st.ok() || missing.empty()) return st;
  for (const AddedColumn& col : kAddedColumns) {
    if (table == col.table && std::find(missing.begin(), missing.end(), col.name) != missing.end())
      fields.push_back(Field(col.name, col.bigquery_type, false));
  }
  json patch = {{"schema", {{"fields", fields}}}};
  Reply r = Call(http::Verb::patch, prefix_ + "/datasets/" + dataset_ + "/tables/" + table, &patch);
  if (!r.status.ok() || r.code != 200) return Failed("tables.patch " + table, r);
  columns_added_at_ns_ = SteadyNs();
  return {};
}

Status BigQueryDataset::CheckSchema() {
  std::string lacking;
  for (const char* table : {"raw", "deliveries"}) {
    json fields;
    std::vector<std::string> missing;
    if (Status st = MissingColumns(table, fields, missing); !st.ok()) return st;
    for (const auto& m : missing)
      lacking += (lacking.empty() ? "" : ", ") + std::string(table) + "." + m;
  }
  if (lacking.empty()) return {};
  return {std::make_error_code(std::errc::invalid_argument),
          "the " + std::string(ColorName(color_)) + " dataset " + project_ + "." + dataset_ +
              " was made by an older release and lacks " + lacking +
              "; add them with `tandem bigquery bootstrap -c CONFIG --color " + ColorName(color_) +
              "`"};
}

namespace {

// insertErrors reasons that mean the row itself is bad: sending it again gets
// the same answer. Everything else ("stopped", "backendError", "timeout", ...)
// is retried.
//
// One exception: "no such field" for a column bootstrap has just added. A
// table's new schema takes a while to reach streaming inserts, and the row is
// fine; refused for good it would go to the dead letters. Within kNewColumnGrace
// of the bootstrap such rows are sent again (the loader backs off meanwhile).
constexpr auto kNewColumnGrace = std::chrono::minutes(15);

bool AddedColumnOf(const std::string& table, const json& err) {
  std::string location = err.value("location", "");
  for (const AddedColumn& col : kAddedColumns) {
    if (table == col.table && location == col.name) return true;
  }
  return false;
}

bool RowInvalid(const json& e, const std::string& table, bool new_columns_settling) {
  if (!e.is_object() || !e.contains("errors") || !e.at("errors").is_array()) return false;
  for (const auto& err : e.at("errors")) {
    if (!err.is_object() || err.value("reason", "") != "invalid") continue;
    if (new_columns_settling && AddedColumnOf(table, err) &&
        err.value("message", "").rfind("no such field", 0) == 0)
      continue;
    return true;
  }
  return false;
}

std::string Reason(const json& e) {
  return e.contains("errors") ? e.at("errors").dump().substr(0, 300) : e.dump().substr(0, 300);
}

}  // namespace

// Sends `rows` until each is stored or refused for good. Row-level errors: only
// the rows BigQuery names are sent again, a few quick tries here, then the
// caller's backoff takes over. A request BigQuery refuses as a whole (400, 413)
// is split in halves until the row it is about stands alone and is refused.
Status BigQueryDataset::InsertChunk(const std::string& table, std::vector<Pending> rows,
                                    WriteResult& out, int depth) {
  std::string last;
  for (int attempt = 0; attempt < 4 && !rows.empty(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
    json req = {{"kind", "bigquery#tableDataInsertAllRequest"},
                {"skipInvalidRows", false},
                {"ignoreUnknownValues", false},
                {"rows", json::array()}};
    for (const auto& p : rows) req["rows"].push_back({{"insertId", p.insert_id}, {"json", p.row}});
    Reply r = Call(http::Verb::post,
                   prefix_ + "/datasets/" + dataset_ + "/tables/" + table + "/insertAll", &req);
    if (r.status.ok() && (r.code == 400 || r.code == 413) && depth < 16) {
      if (rows.size() == 1) {
        out.refused.push_back({rows[0].index, "insertAll " + table + " answered " +
                                                  std::to_string(r.code) + ": " +
                                                  r.body.dump().substr(0, 300)});
        return {};
      }
      std::vector<Pending> second(std::make_move_iterator(rows.begin() + rows.size() / 2),
                                  std::make_move_iterator(rows.end()));
      rows.resize(rows.size() / 2);
      if (Status st = InsertChunk(table, std::move(rows), out, depth + 1); !st.ok()) return st;
      return InsertChunk(table, std::move(second), out, depth + 1);
    }
    // A 200 whose body is not a JSON object is not proof the rows landed.
    if (!r.status.ok() || r.code != 200 || !r.body.is_object()) {
      return Failed("insertAll " + table, r);
    }
    if (!r.body.contains("insertErrors") || !r.body.at("insertErrors").is_array() ||
        r.body.at("insertErrors").empty()) {
      return {};
    }
    const json& errors = r.body.at("insertErrors");
    const int64_t added_at = columns_added_at_ns_.load();
    const bool settling =
        added_at != 0 && SteadyNs() - added_at < std::chrono::nanoseconds(kNewColumnGrace).count();
    std::vector<bool> named(rows.size(), false), invalid(rows.size(), false);
    for (const auto& e : errors) {
      if (!e.is_object() || !e.contains("index") || !e.at("index").is_number_unsigned()) continue;
      size_t i = e.at("index").get<size_t>();
      if (i >= rows.size()) continue;
      named[i] = true;
      if (RowInvalid(e, table, settling) && !invalid[i]) {
        invalid[i] = true;
        out.refused.push_back({rows[i].index, "insertAll " + table + ": " + Reason(e)});
      }
    }
    bool any_named = std::find(named.begin(), named.end(), true) != named.end();
    std::vector<Pending> again;
    for (size_t i = 0; i < rows.size(); ++i) {
      // Errors we cannot map to rows: send them all again.
      if (!invalid[i] && (named[i] || !any_named)) again.push_back(std::move(rows[i]));
    }
    last = "insertAll " + table + ": " + std::to_string(again.size()) +
           " rows to send again: " + errors.dump().substr(0, 300);
    rows = std::move(again);
  }
  if (rows.empty()) return {};
  return {std::make_error_code(std::errc::resource_unavailable_try_again), last};
}

WriteResult BigQueryDataset::InsertAll(const std::string& table, std::vector<Pending> rows) {
  WriteResult out;
  size_t i = 0;
  while (i < rows.size()) {
    std::vector<Pending> chunk;
    size_t bytes = 0;
    while (i < rows.size() && chunk.size() < kMaxRowsPerInsert) {
      size_t sz = rows[i].row.dump(-1, ' ', false, json::error_handler_t::replace).size() +
                  rows[i].insert_id.size() + 32;
      if (!chunk.empty() && bytes + sz > kMaxBytesPerInsert) break;
      bytes += sz;
      chunk.push_back(std::move(rows[i++]));
    }
    if (Status st = InsertChunk(table, std::move(chunk), out, 0); !st.ok()) {
      out.status = st;
      out.refused.clear();
      return out;
    }
  }
  return out;
}

WriteResult BigQueryDataset::InsertRaw(const std::vector<RawRow>& rows) {
  std::vector<Pending> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    out.push_back({i, r.tandem_id,
                   json{{"tandem_id", r.tandem_id},
                        {"received_at", Seconds(r.received_at_ms)},
                        {"data", r.data},
                        {"mirror", r.mirror.empty() ? json(nullptr) : json(r.mirror)}}});
  }
  return InsertAll("raw", std::move(out));
}

WriteResult BigQueryDataset::InsertDeliveries(const std::vector<DeliveryRow>& rows) {
  std::vector<Pending> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    // The outcome is in the insertId: a resend of the same row is deduplicated,
    // but a backfill's `delivered` after a `failed` must not be dropped as one.
    out.push_back({i, r.tandem_id + "/" + r.vendor + "/" + r.outcome,
                   json{{"tandem_id", r.tandem_id},
                        {"vendor", r.vendor},
                        {"outcome", r.outcome},
                        {"status_code", r.status_code},
                        {"attempts", r.attempts},
                        {"at", Seconds(r.at_ms)},
                        {"payload_hash", r.payload_hash},
                        {"payload", r.payload.empty() ? json(nullptr) : json(r.payload)}}});
  }
  return InsertAll("deliveries", std::move(out));
}

WriteResult BigQueryDataset::InsertRejected(const std::vector<RejectedRow>& rows) {
  std::vector<Pending> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    out.push_back(
        {i, r.tandem_id,
         json{{"tandem_id", r.tandem_id}, {"reason", r.reason}, {"at", Seconds(r.at_ms)}}});
  }
  return InsertAll("rejected", std::move(out));
}

Status BigQueryDataset::Query(const std::string& sql, std::vector<std::vector<std::string>>& rows) {
  rows.clear();
  json req = {{"query", sql}, {"useLegacySql", false}, {"timeoutMs", 10000}, {"maxResults", 10000}};
  if (!location_.empty()) req["location"] = location_;
  Reply r = Call(http::Verb::post, prefix_ + "/queries", &req);
  if (!r.status.ok() || r.code != 200 || !r.body.is_object()) return Failed("jobs.query", r);
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
    if (job.empty()) {
      return {std::make_error_code(std::errc::protocol_error), "jobs.query: no jobReference"};
    }
    std::string path = prefix_ + "/queries/" + job + "?timeoutMs=10000&maxResults=10000";
    if (!location.empty()) path += "&location=" + PercentEncode(location);
    if (!token.empty()) path += "&pageToken=" + PercentEncode(token);
    r = Call(http::Verb::get, path, nullptr);
    if (!r.status.ok() || r.code != 200 || !r.body.is_object()) {
      return Failed("jobs.getQueryResults", r);
    }
  }
  return {std::make_error_code(std::errc::result_out_of_range), "jobs.query: too many pages"};
}

}  // namespace tandem
