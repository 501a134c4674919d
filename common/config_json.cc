// The resolved configuration as JSON, for `tandem check-config`.
#include <nlohmann/json.hpp>

#include "common/config.h"

namespace tandem {
namespace {

nlohmann::json Settings(const TrackerSettings& t) {
  return {{"endpoint", t.endpoint},
          {"path", t.path},
          {"measurement_id", t.measurement_id},
          {"api_secret_env", t.api_secret_env},
          {"api_key_env", t.api_key_env},
          {"app_id", t.app_id}};
}

nlohmann::json ColorJson(const ColorConfig& c) {
  const DatasetConfig& d = c.dataset;
  nlohmann::json ds = {{"kind", d.kind}};
  if (d.kind == "sqlite") {
    ds["path"] = d.path;
  } else {
    ds.update({{"project", d.project},
               {"dataset", d.dataset},
               {"credentials_file", d.credentials_file},
               {"endpoint", d.endpoint},
               {"token_uri", d.token_uri},
               {"location", d.location}});
  }
  nlohmann::json dispatchers = nlohmann::json::array();
  for (const auto& d : c.dispatchers) dispatchers.push_back(d.ToString());
  return {{"dispatcher_listen", c.dispatcher_listen.ToString()},
          {"dispatchers", dispatchers},
          {"trace_listen", c.trace_listen.ToString()},
          {"dataset", ds},
          {"binary", c.binary},
          {"spool_dir", c.spool_dir},
          {"spool_max_bytes", c.spool_max_bytes}};
}

}  // namespace

std::string ConfigToJson(const Config& c) {
  const SplitterConfig& s = c.splitter;
  nlohmann::json trackers = nlohmann::json::array();
  for (const auto& t : c.pipeline.trackers) {
    trackers.push_back({{"name", t.name},
                        {"kind", t.kind},
                        {"live", Settings(t.live)},
                        {"candidate_mode", t.candidate_mode},
                        {"candidate", Settings(t.candidate)},
                        {"timeout_ms", t.timeout_ms},
                        {"max_attempts", t.max_attempts},
                        {"batch_max", t.batch_max},
                        {"linger_ms", t.linger_ms}});
  }
  const ScrubConfig& sc = c.pipeline.scrub;
  nlohmann::json j = {
      {"file", c.file},
      {"splitter",
       {{"listen", s.listen.ToString()},
        {"admin_listen", s.admin_listen.ToString()},
        {"etcd", {{"endpoints", s.etcd.endpoints}, {"key", s.etcd.key}}},
        {"admin_token_env", s.admin_token_env},
        {"state_file", s.state_file},
        {"initial_live", ColorName(s.initial_live)},
        {"mirror_fraction", s.mirror_fraction},
        {"max_body_bytes", s.max_body_bytes},
        {"upstream_timeout_ms", s.upstream_timeout_ms},
        {"max_inflight_per_color", s.max_inflight_per_color},
        {"candidate_max_connections", s.candidate_max_connections},
        {"candidate_retry_ms", s.candidate_retry_ms},
        {"candidate_retry_bytes", s.candidate_retry_bytes},
        {"cors_origins", s.cors_origins},
        {"compare_url", s.compare_url},
        {"header_timeout_ms", s.header_timeout_ms},
        {"idle_timeout_ms", s.idle_timeout_ms},
        {"first_byte_timeout_ms", s.first_byte_timeout_ms},
        {"max_connections", s.max_connections},
        {"admin_max_connections", s.admin_max_connections},
        {"drain_timeout_ms", s.drain_timeout_ms},
        {"threads", s.threads}}},
      {"colors", {{"blue", ColorJson(c.blue)}, {"green", ColorJson(c.green)}}},
      {"pipeline",
       {{"allowlist",
         {{"events", c.pipeline.allowlist_events}, {"any_event", c.pipeline.allowlist_any_event}}},
        {"scrub",
         {{"emails", sc.emails},
          {"card_numbers", sc.card_numbers},
          {"ip_addresses", sc.ip_addresses},
          {"phone_numbers", sc.phone_numbers},
          {"tokens", sc.tokens},
          {"url_secrets", sc.url_secrets},
          {"url_allowed_params", sc.url_allowed_params},
          {"max_value_length", sc.max_value_length}}},
        {"record_payloads", c.pipeline.record_payloads},
        {"trackers", trackers},
        {"sentry", {{"dsn_env", c.pipeline.sentry_dsn_env}}},
        {"tls", {{"ca_file", c.pipeline.tls_ca_file}}}}},
      {"compare",
       {{"listen", c.compare.listen.ToString()},
        {"window_seconds", c.compare.window_seconds},
        {"settle_seconds", c.compare.settle_seconds},
        {"max_drift_ratio", c.compare.max_drift_ratio},
        {"min_events_per_window", c.compare.min_events_per_window},
        {"windows_required", c.compare.windows_required},
        {"history_windows", c.compare.history_windows}}}};
  // Values are the file's bytes, not always UTF-8: shown with U+FFFD rather than thrown on.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tandem
