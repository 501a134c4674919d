#include "tests/support/bigquery_stub.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <regex>

namespace tandem::testing {
namespace {

using json = nlohmann::json;

std::string Base64UrlDecode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) return "";
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(acc >> bits & 0xff);
    }
  }
  return out;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view kv = q.substr(0, amp);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos)
      out[UrlDecode(kv.substr(0, eq))] = UrlDecode(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

http::Response Json(unsigned status, const json& j) {
  return http::MakeResponse(static_cast<http::Status>(status), j.dump());
}

http::Response Error(unsigned status, const std::string& msg) {
  return Json(status, {{"error", {{"code", status}, {"message", msg}}}});
}

}  // namespace

BigQueryStub::BigQueryStub(const TestPki& pki, int token_ttl_s)
    : public_pem_(pki.sa_public_pem), token_ttl_s_(token_ttl_s) {
  server_ = std::make_unique<HttpsStub>(pki, [this](const http::Request& r) { return Handle(r); });
}

void BigQueryStub::RejectRowsAlways(std::set<std::string> ids) {
  std::lock_guard<std::mutex> l(mu_);
  reject_always_ = std::move(ids);
}

void BigQueryStub::FailNextBootstraps(int count) {
  std::lock_guard<std::mutex> l(mu_);
  fail_bootstraps_ = count;
}

void BigQueryStub::FailNextInserts(unsigned status, int count) {
  std::lock_guard<std::mutex> l(mu_);
  fail_status_ = status;
  fail_count_ = count;
}
void BigQueryStub::RejectRowsOnce(std::set<std::string> ids) {
  std::lock_guard<std::mutex> l(mu_);
  reject_once_ = std::move(ids);
}
void BigQueryStub::set_page_size(size_t n) {
  std::lock_guard<std::mutex> l(mu_);
  page_size_ = n;
}
void BigQueryStub::AddTable(const std::string& dataset, const std::string& table, json fields) {
  std::lock_guard<std::mutex> l(mu_);
  datasets_.insert(dataset);
  tables_.insert(table);
  schemas_[table] = std::move(fields);
}
json BigQueryStub::schema(const std::string& table) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = schemas_.find(table);
  return it == schemas_.end() ? json::array() : it->second;
}
void BigQueryStub::DelaySchemaChanges(int insert_calls) {
  std::lock_guard<std::mutex> l(mu_);
  schema_delay_ = insert_calls;
}
size_t BigQueryStub::patch_calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return patch_calls_;
}
void BigQueryStub::RevokeTokens() {
  std::lock_guard<std::mutex> l(mu_);
  tokens_.clear();
}
size_t BigQueryStub::token_requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return token_requests_;
}
size_t BigQueryStub::insert_calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return insert_calls_;
}
size_t BigQueryStub::query_jobs() const {
  std::lock_guard<std::mutex> l(mu_);
  return jobs_;
}
size_t BigQueryStub::max_rows_per_insert() const {
  std::lock_guard<std::mutex> l(mu_);
  return max_rows_;
}
std::map<std::string, json> BigQueryStub::rows(const std::string& table) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = rows_.find(table);
  return it == rows_.end() ? std::map<std::string, json>{} : it->second;
}
std::set<std::string> BigQueryStub::tables() const {
  std::lock_guard<std::mutex> l(mu_);
  return tables_;
}
std::vector<std::string> BigQueryStub::violations() const {
  std::lock_guard<std::mutex> l(mu_);
  return violations_;
}

bool BigQueryStub::VerifyJwt(const std::string& jwt, std::string& why) {
  auto d1 = jwt.find('.'), d2 = jwt.rfind('.');
  if (d1 == std::string::npos || d1 == d2) return why = "not a JWT", false;
  json header = json::parse(Base64UrlDecode(jwt.substr(0, d1)), nullptr, false);
  json claims = json::parse(Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1)), nullptr, false);
  std::string sig = Base64UrlDecode(jwt.substr(d2 + 1));
  if (!header.is_object() || header.value("alg", "") != "RS256" || header.value("typ", "") != "JWT")
    return why = "header", false;
  BIO* bio = BIO_new_mem_buf(public_pem_.data(), static_cast<int>(public_pem_.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string input = jwt.substr(0, d2);
  bool ok =
      key && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return why = "bad signature", false;
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  if (!claims.is_object() ||
      claims.value("iss", "") != "tandem@test-project.iam.gserviceaccount.com")
    return why = "iss", false;
  if (claims.value("scope", "").find("https://www.googleapis.com/auth/bigquery") ==
      std::string::npos)
    return why = "scope", false;
  if (claims.value("aud", "") != token_uri()) return why = "aud " + claims.value("aud", ""), false;
  int64_t iat = claims.value("iat", int64_t{0}), exp = claims.value("exp", int64_t{0});
  if (iat > now + 60 || exp <= now || exp - iat > 3600) return why = "iat/exp", false;
  return true;
}

http::Response BigQueryStub::Token(const http::Request& req) {
  std::lock_guard<std::mutex> l(mu_);
  ++token_requests_;
  if (req[http::Field::content_type] != "application/x-www-form-urlencoded") {
    violations_.push_back("token: content type");
    return Error(400, "content type");
  }
  auto form = ParseQuery(req.body());
  if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer") {
    violations_.push_back("token: grant_type");
    return Json(400, {{"error", "unsupported_grant_type"}});
  }
  std::string why;
  if (!VerifyJwt(form["assertion"], why)) {
    violations_.push_back("token: " + why);
    return Json(400, {{"error", "invalid_grant"}, {"error_description", why}});
  }
  std::string token = "tok-" + std::to_string(token_requests_);
  tokens_[token] = std::chrono::steady_clock::now() + std::chrono::seconds(token_ttl_s_);
  return Json(200,
              {{"access_token", token}, {"expires_in", token_ttl_s_}, {"token_type", "Bearer"}});
}

http::Response BigQueryStub::Handle(const http::Request& req) {
  std::string target(req.target());
  std::string path = target.substr(0, target.find('?'));
  if (path == "/token" && req.method() == http::Verb::post) return Token(req);
  if (path.rfind("/bigquery/v2/projects/test-project/", 0) != 0)
    return Error(404, "not found: " + path);
  std::lock_guard<std::mutex> l(mu_);
  std::string auth(req[http::Field::authorization]);
  auto tok = tokens_.find(auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "");
  if (tok == tokens_.end() || tok->second <= std::chrono::steady_clock::now())
    return Error(401, "invalid or expired token");
  return Api(req, target.substr(std::string("/bigquery/v2/projects/test-project").size()));
}

namespace {

json Row(std::vector<std::string> cells) {
  json f = json::array();
  for (auto& c : cells) f.push_back({{"v", std::move(c)}});
  return {{"f", f}};
}

// The millisecond bounds of "TIMESTAMP_MILLIS(a) ... TIMESTAMP_MILLIS(b)".
std::pair<int64_t, int64_t> Bounds(const std::string& sql) {
  static const std::regex ms("TIMESTAMP_MILLIS\\((-?[0-9]+)\\)");
  std::vector<int64_t> v;
  for (auto it = std::sregex_iterator(sql.begin(), sql.end(), ms); it != std::sregex_iterator();
       ++it)
    v.push_back(std::stoll((*it)[1]));
  return v.size() >= 2 ? std::pair{v[0], v[1]} : std::pair{int64_t{0}, int64_t{0}};
}

}  // namespace

// Called with mu_ held. Answers the query shapes Tandem sends (compare's window
// reads, payload examples, first event) from the stored rows; any other query
// gets every raw row (tandem_id, received_at, data).
std::vector<json> BigQueryStub::Answer(const std::string& sql) {
  std::vector<json> out;
  auto ms = [](const json& row) {
    return static_cast<int64_t>(std::llround(row.value("received_at", 0.0) * 1000));
  };
  auto [from, to] = Bounds(sql);
  auto in_window = [&](const json& row) { return ms(row) >= from && ms(row) < to; };
  if (sql.rfind("SELECT tandem_id, SAFE.JSON_EXTRACT_SCALAR(data, '$.event'), "
                "FARM_FINGERPRINT(data), mirror FROM `",
                0) == 0) {
    for (const auto& [id, row] : rows_["raw"]) {
      if (!in_window(row)) continue;
      json body = json::parse(row.value("data", ""), nullptr, false);
      std::string event = body.is_object() && body.contains("event") && body["event"].is_string()
                              ? body["event"].get<std::string>()
                              : "";
      std::string mirror = row.contains("mirror") && row["mirror"].is_string()
                               ? row["mirror"].get<std::string>()
                               : "";
      out.push_back(Row(
          {row.value("tandem_id", ""), event,
           std::to_string(static_cast<int64_t>(std::hash<std::string>{}(row.value("data", "")))),
           mirror}));
    }
    return out;
  }
  if (sql.rfind("SELECT d.tandem_id, d.vendor, d.outcome, d.payload_hash FROM `", 0) == 0) {
    std::set<std::string> ids;
    for (const auto& [id, row] : rows_["raw"])
      if (in_window(row)) ids.insert(row.value("tandem_id", ""));
    for (const auto& [key, row] : rows_["deliveries"]) {
      if (!ids.count(row.value("tandem_id", ""))) continue;
      out.push_back(Row({row.value("tandem_id", ""), row.value("vendor", ""),
                         row.value("outcome", ""), row.value("payload_hash", "")}));
    }
    return out;
  }
  if (sql.rfind("SELECT tandem_id, vendor, payload FROM `", 0) == 0) {
    for (const auto& [key, row] : rows_["deliveries"]) {
      if (sql.find("'" + row.value("tandem_id", "") + "'") == std::string::npos) continue;
      if (!row.contains("payload") || !row["payload"].is_string()) continue;
      out.push_back(Row({row.value("tandem_id", ""), row.value("vendor", ""),
                         row["payload"].get<std::string>()}));
    }
    return out;
  }
  if (sql.rfind("SELECT UNIX_MILLIS(MIN(received_at)) FROM `", 0) == 0) {
    std::optional<int64_t> min;
    for (const auto& [id, row] : rows_["raw"])
      if (ms(row) >= from && (!min || ms(row) < *min)) min = ms(row);
    out.push_back(min ? Row({std::to_string(*min)}) : json{{"f", {{{"v", nullptr}}}}});
    return out;
  }
  for (const auto& [id, row] : rows_["raw"]) {
    out.push_back(Row({row.value("tandem_id", ""), std::to_string(row.value("received_at", 0.0)),
                       row.value("data", "")}));
  }
  return out;
}

// Called with mu_ held.
http::Response BigQueryStub::Api(const http::Request& req, const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  json body = req.body().empty() ? json::object() : json::parse(req.body(), nullptr, false);
  if (req.method() == http::Verb::post && !body.is_object()) {
    violations_.push_back("body is not a JSON object: " + path);
    return Error(400, "parse error");
  }
  if (req.method() == http::Verb::post && path == "/datasets") {
    if (fail_bootstraps_ > 0) {
      --fail_bootstraps_;
      return Error(503, "injected failure");
    }
    std::string id = body["datasetReference"].value("datasetId", "");
    if (id.empty() || body["datasetReference"].value("projectId", "") != "test-project")
      violations_.push_back("datasets.insert shape");
    if (!datasets_.insert(id).second)
      return Error(409, "Already Exists: Dataset test-project:" + id);
    return Json(200, {{"kind", "bigquery#dataset"}, {"id", "test-project:" + id}});
  }
  if (req.method() == http::Verb::post && path.size() > 7 &&
      path.substr(path.size() - 7) == "/tables") {
    const json& ref = body["tableReference"];
    std::string id = ref.value("tableId", "");
    if (id.empty() || !datasets_.count(ref.value("datasetId", "")))
      violations_.push_back("tables.insert shape or unknown dataset");
    if (id == "raw" && (!body.contains("timePartitioning") ||
                        body["timePartitioning"].value("field", "") != "received_at")) {
      violations_.push_back("raw is not partitioned by received_at");
    }
    if (id == "raw_normalized" &&
        (!body.contains("view") || body["view"].value("useLegacySql", true))) {
      violations_.push_back("raw_normalized is not a standard-SQL view");
    }
    if (!tables_.insert(id).second) return Error(409, "Already Exists: Table " + id);
    if (body.contains("schema") && body["schema"].contains("fields"))
      schemas_[id] = body["schema"]["fields"];
    return Json(200, {{"kind", "bigquery#table"}, {"id", id}});
  }
  static const std::regex table_path("/datasets/([A-Za-z0-9_]+)/tables/([A-Za-z0-9_]+)");
  if (std::smatch m; (req.method() == http::Verb::get || req.method() == http::Verb::patch) &&
                     std::regex_match(path, m, table_path)) {
    return Table(req, m[2]);
  }
  const std::string suffix = "/insertAll";
  if (req.method() == http::Verb::post && path.size() > suffix.size() &&
      path.substr(path.size() - suffix.size()) == suffix) {
    ++insert_calls_;
    std::string table = path.substr(0, path.size() - suffix.size());
    table = table.substr(table.rfind('/') + 1);
    if (fail_count_ > 0) {
      --fail_count_;
      return Error(fail_status_, "injected failure");
    }
    if (!tables_.count(table)) return Error(404, "Not found: Table test-project:" + table);
    const json& rows = body["rows"];
    if (!rows.is_array() || rows.empty() || rows.size() > 500)
      violations_.push_back("insertAll: rows must be 1..500");
    if (req.body().size() > 10 * 1024 * 1024)
      violations_.push_back("insertAll: request over 10 MB");
    max_rows_ = std::max(max_rows_, rows.size());
    json errors = json::array();
    const bool stale = stale_inserts_left_ > 0 && stale_schemas_.count(table);
    if (stale) --stale_inserts_left_;
    const json& fields = stale ? stale_schemas_[table] : schemas_[table];
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string id = rows[i].value("insertId", "");
      if (id.empty() || !rows[i]["json"].is_object())
        violations_.push_back("insertAll: row without insertId or json");
      // ignoreUnknownValues false: "no such field" is the row's own error.
      std::string unknown;
      if (rows[i]["json"].is_object() && fields.is_array() && !fields.empty()) {
        for (const auto& [key, value] : rows[i]["json"].items()) {
          bool known = std::any_of(fields.begin(), fields.end(),
                                   [&](const json& f) { return f.value("name", "") == key; });
          if (!known) unknown = key;
        }
      }
      if (!unknown.empty())
        errors.push_back({{"index", i},
                          {"errors",
                           {{{"reason", "invalid"},
                             {"location", unknown},
                             {"message", "no such field: " + unknown + "."}}}}});
      else if (reject_once_.erase(id))
        errors.push_back(
            {{"index", i}, {"errors", {{{"reason", "backendError"}, {"message", "try again"}}}}});
      else if (reject_always_.count(id))
        errors.push_back({{"index", i},
                          {"errors",
                           {{{"reason", "invalid"},
                             {"location", "data"},
                             {"message", "no such field: data"}}}}});
    }
    if (!errors.empty()) {
      // As BigQuery does without skipInvalidRows: nothing is stored, the other rows are "stopped".
      std::set<size_t> failed;
      for (auto& e : errors) failed.insert(e["index"].get<size_t>());
      for (size_t i = 0; i < rows.size(); ++i) {
        if (!failed.count(i))
          errors.push_back({{"index", i}, {"errors", {{{"reason", "stopped"}, {"message", ""}}}}});
      }
      return Json(200, {{"kind", "bigquery#tableDataInsertAllResponse"}, {"insertErrors", errors}});
    }
    // BigQuery's best-effort dedupe: a row whose insertId was seen recently is dropped.
    for (const auto& r : rows) rows_[table].emplace(r.value("insertId", ""), r["json"]);
    return Json(200, {{"kind", "bigquery#tableDataInsertAllResponse"}});
  }
  if (req.method() == http::Verb::post && path == "/queries") {
    if (!body.contains("query") || body.value("useLegacySql", true))
      violations_.push_back("jobs.query shape");
    // As BigQuery answers a query naming a column the table lacks.
    if (std::string column = UnknownColumn(body.value("query", "")); !column.empty()) {
      std::string msg = "Unrecognized name: " + column + " at [1:1]";
      return Json(400, {{"error",
                         {{"code", 400},
                          {"message", msg},
                          {"errors",
                           {{{"message", msg},
                             {"domain", "global"},
                             {"reason", "invalidQuery"},
                             {"location", "q"},
                             {"locationType", "parameter"}}}},
                          {"status", "INVALID_ARGUMENT"}}}});
    }
    std::string job = "job-" + std::to_string(++jobs_);
    job_sql_[job] = body.value("query", "");
    if (job_sql_[job].find("``") != std::string::npos ||
        job_sql_[job].find("FROM `test-project.") == std::string::npos)
      violations_.push_back("jobs.query without a `project.dataset.table` reference");
    // Not complete yet: the client has to poll getQueryResults.
    return Json(200, {{"kind", "bigquery#queryResponse"},
                      {"jobComplete", false},
                      {"jobReference",
                       {{"projectId", "test-project"}, {"jobId", job}, {"location", "US"}}}});
  }
  if (req.method() == http::Verb::get && path.rfind("/queries/job-", 0) == 0) {
    auto q = ParseQuery(
        target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1));
    if (q["location"] != "US") violations_.push_back("getQueryResults without the job's location");
    size_t offset = q.count("pageToken") ? std::stoul(q["pageToken"].substr(1)) : 0;
    std::vector<json> all = Answer(job_sql_[path.substr(9)]);
    json page = json::array();
    for (size_t i = offset; i < all.size() && i < offset + page_size_; ++i) page.push_back(all[i]);
    json out = {{"kind", "bigquery#getQueryResultsResponse"},
                {"jobComplete", true},
                {"totalRows", std::to_string(all.size())},
                {"jobReference",
                 {{"projectId", "test-project"}, {"jobId", path.substr(9)}, {"location", "US"}}},
                {"rows", page}};
    if (offset + page_size_ < all.size())
      out["pageToken"] = "p" + std::to_string(offset + page_size_);
    return Json(200, out);
  }
  violations_.push_back("unexpected request " + std::string(req.method_string()) + " " + path);
  return Error(404, "not found");
}

}  // namespace tandem::testing

namespace tandem::testing {

// Called with mu_ held: a column of added_columns' kind the query reads from a
// table whose schema lacks it.
std::string BigQueryStub::UnknownColumn(const std::string& sql) const {
  for (const auto& [table, column] :
       {std::pair{"raw", "mirror"}, std::pair{"deliveries", "payload"},
        std::pair{"deliveries", "payload_hash"}}) {
    if (sql.find("." + std::string(table) + "`") == std::string::npos) continue;
    if (!std::regex_search(sql, std::regex(std::string("\\b") + column + "\\b"))) continue;
    auto it = schemas_.find(table);
    if (it == schemas_.end()) continue;
    bool has = std::any_of(it->second.begin(), it->second.end(),
                           [&](const json& f) { return f.value("name", "") == column; });
    if (!has) return column;
  }
  return "";
}

// Called with mu_ held. tables.get, and tables.patch with the whole new schema:
// "If you add new columns to an existing table schema, the columns must be
// NULLABLE or REPEATED. You cannot add a REQUIRED column to an existing table
// schema" (cloud.google.com/bigquery/docs/managing-table-schemas); a field
// left out or retyped is not a change BigQuery makes either.
http::Response BigQueryStub::Table(const http::Request& req, const std::string& table) {
  const std::string id = "test-project:" + table;
  if (!tables_.count(table)) return Error(404, "Not found: Table " + id);
  json& fields = schemas_[table];
  if (req.method() == http::Verb::patch) {
    ++patch_calls_;
    json body = json::parse(req.body(), nullptr, false);
    if (!body.is_object() || !body.contains("schema") || !body["schema"].contains("fields") ||
        !body["schema"]["fields"].is_array()) {
      violations_.push_back("tables.patch without schema.fields");
      return Error(400, "Invalid schema");
    }
    const json& next = body["schema"]["fields"];
    auto find = [](const json& list, const std::string& name) -> const json* {
      for (const auto& f : list)
        if (f.value("name", "") == name) return &f;
      return nullptr;
    };
    for (const auto& f : fields) {
      const json* n = find(next, f.value("name", ""));
      if (!n)
        return Error(400, "Provided Schema does not match Table " + id + ". Field " +
                              f.value("name", "") + " is missing in new schema");
      if (n->value("type", "") != f.value("type", ""))
        return Error(400, "Provided Schema does not match Table " + id + ". Field " +
                              f.value("name", "") + " has changed type");
    }
    for (const auto& n : next) {
      if (!find(fields, n.value("name", "")) && n.value("mode", "NULLABLE") == "REQUIRED")
        return Error(400, "Provided Schema does not match Table " + id +
                              ". Cannot add required columns to an existing schema.");
    }
    stale_schemas_[table] = fields;
    stale_inserts_left_ = schema_delay_;
    fields = next;
  }
  return Json(200, {{"kind", "bigquery#table"},
                    {"id", id},
                    {"tableReference", {{"projectId", "test-project"}, {"tableId", table}}},
                    {"schema", {{"fields", fields}}}});
}

}  // namespace tandem::testing
