#include "splitter/etcd_client.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/sync_client.h"

namespace tandem::splitter {
namespace {

using json = nlohmann::json;
// A member that does not answer within this is skipped for the next one. A
// write waits for a raft commit, which an election can hold up for a second.
constexpr auto kCallTimeout = std::chrono::milliseconds(2500);

std::error_code Unavailable() { return std::make_error_code(std::errc::host_unreachable); }
std::error_code BadAnswer() { return std::make_error_code(std::errc::protocol_error); }

// etcd's gateway writes int64 as JSON strings ("42"), and leaves zeros out.
int64_t Int(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const json& v = j[key];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (!v.is_string()) return 0;
  const std::string& t = v.get_ref<const std::string&>();
  int64_t out = 0;
  std::from_chars(t.data(), t.data() + t.size(), out);
  return out;
}

std::optional<EtcdValue> FirstKv(const json& range_response) {
  if (!range_response.is_object() || !range_response.contains("kvs")) return std::nullopt;
  const json& kvs = range_response["kvs"];
  if (!kvs.is_array() || kvs.empty()) return std::nullopt;
  EtcdValue v;
  if (kvs[0].contains("value") && kvs[0]["value"].is_string()) {
    auto decoded = Base64Decode(kvs[0]["value"].get<std::string>());
    if (!decoded) return std::nullopt;
    v.value = std::move(*decoded);
  }
  v.mod_revision = Int(kvs[0], "mod_revision");
  return v;
}

}  // namespace

EtcdClient::EtcdClient(const std::vector<std::string>& endpoints, std::string key)
    : key_(std::move(key)) {
  for (const auto& e : endpoints) {
    auto u = Url::Parse(e);
    if (!u) throw std::runtime_error("splitter.etcd.endpoints: cannot parse '" + e + "'");
    urls_.push_back(*u);
    clients_.push_back(std::make_unique<http::SyncClient>(*u, ""));
  }
}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::endpoint() const { return urls_.empty() ? "" : urls_[next_].Origin(); }

Status EtcdClient::Call(const std::string& path, const std::string& body, std::string& answer) {
  std::string last;
  for (size_t tried = 0; tried < clients_.size(); ++tried) {
    size_t i = (next_ + tried) % clients_.size();
    http::Request req{http::Verb::post, path, 11};
    req.set(http::Field::host, urls_[i].HostHeader());
    req.set(http::Field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::SyncResult r = clients_[i]->Send(std::move(req), kCallTimeout);
    if (!r.ec && r.res.result_int() == 200) {
      next_ = i;
      answer = std::move(r.res.body());
      return Status::Ok();
    }
    last = urls_[i].Origin() + ": " +
           (r.ec ? r.ec.message()
                 : "status " + std::to_string(r.res.result_int()) + " " + r.res.body());
  }
  next_ = (next_ + 1) % clients_.size();
  return {Unavailable(), "no etcd member answered; last: " + last};
}

Status EtcdClient::Range(EtcdRead& out) {
  std::string answer;
  Status s = Call("/v3/kv/range", json{{"key", Base64(key_)}}.dump(), answer);
  if (!s.ok()) return s;
  json j = json::parse(answer, nullptr, false);
  if (!j.is_object()) return {BadAnswer(), "etcd range: not JSON: " + answer.substr(0, 200)};
  try {
    out.kv = FirstKv(j);
    out.revision = Int(j.value("header", json::object()), "revision");
  } catch (const json::exception& e) {
    return {BadAnswer(), std::string("etcd range: unexpected JSON: ") + e.what()};
  }
  return Status::Ok();
}

Status EtcdClient::Txn(const std::string& compare_json, const std::string& value, EtcdTxn& out) {
  json body = {
      {"compare", json::array({json::parse(compare_json)})},
      {"success",
       json::array({{{"request_put", {{"key", Base64(key_)}, {"value", Base64(value)}}}}})},
      {"failure", json::array({{{"request_range", {{"key", Base64(key_)}}}}})}};
  std::string answer;
  Status s = Call("/v3/kv/txn", body.dump(), answer);
  if (!s.ok()) return s;
  json j = json::parse(answer, nullptr, false);
  if (!j.is_object()) return {BadAnswer(), "etcd txn: not JSON: " + answer.substr(0, 200)};
  try {
    out.succeeded = j.value("succeeded", false);
    out.revision = Int(j.value("header", json::object()), "revision");
    out.current.reset();
    if (!out.succeeded && j.contains("responses") && j["responses"].is_array() &&
        !j["responses"].empty()) {
      out.current = FirstKv(j["responses"][0].value("response_range", json::object()));
    }
  } catch (const json::exception& e) {
    return {BadAnswer(), std::string("etcd txn: unexpected JSON: ") + e.what()};
  }
  return Status::Ok();
}

Status EtcdClient::CreateIfAbsent(const std::string& value, EtcdTxn& out) {
  json cmp = {{"key", Base64(key_)}, {"target", "CREATE"}, {"create_revision", "0"}};
  return Txn(cmp.dump(), value, out);
}

Status EtcdClient::PutIfRevision(const std::string& value, int64_t mod_revision, EtcdTxn& out) {
  json cmp = {
      {"key", Base64(key_)}, {"target", "MOD"}, {"mod_revision", std::to_string(mod_revision)}};
  return Txn(cmp.dump(), value, out);
}

}  // namespace tandem::splitter
