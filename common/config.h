// Typed configuration for every Tandem service (SPEC section 2). Parsed once at
// startup; unknown keys and bad values are rejected with FILE:LINE:COLUMN.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/color.h"
#include "common/host_port.h"

namespace tandem {

// The largest max_body_bytes: the dispatcher's spool holds a record (body, id and
// kept headers) of at most 64 MiB, so a body up to this always fits.
inline constexpr uint64_t kMaxBodyBytesLimit = 32ull << 20;

// Thrown by config loading; what() is already "FILE:LINE:COLUMN: message".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A fleet's shared state (SPEC section 2): empty endpoints mean state_file only.
struct EtcdConfig {
  std::vector<std::string> endpoints;  // http://host:port of etcd members
  std::string key = "/tandem/state";
};

struct SplitterConfig {
  HostPort listen;
  HostPort admin_listen;
  std::string admin_token_env = "TANDEM_ADMIN_TOKEN";
  std::string state_file = "var/splitter-state.json";
  Color initial_live = Color::kGreen;
  double mirror_fraction = 1.0;
  uint64_t max_body_bytes = 65536;
  uint32_t upstream_timeout_ms = 2000;
  uint32_t max_inflight_per_color = 8192;
  // Ours: connections to the candidate's dispatcher, across all threads; copies
  // beyond them wait (still within max_inflight_per_color and the timeout).
  uint32_t candidate_max_connections = 1024;
  // Ours: a candidate copy its dispatcher could not take (refused or dropped
  // connection, 503, breaker open) is kept and sent again for this long, within
  // this many bytes per color (and max_inflight_per_color), so a candidate that
  // restarts misses nothing.
  uint32_t candidate_retry_ms = 30000;
  uint64_t candidate_retry_bytes = 64ull << 20;
  std::vector<std::string> cors_origins;
  std::string compare_url = "http://127.0.0.1:8090";
  // Not in SPEC's sample, ours: how long a client may take to send headers and body.
  uint32_t header_timeout_ms = 10000;
  // Idle keep-alive connections from clients are closed after this long.
  uint32_t idle_timeout_ms = 60000;
  // A new connection that sends nothing for this long is closed.
  uint32_t first_byte_timeout_ms = 5000;
  // Open client connections per listener (SPEC); the admin listener has its own cap.
  uint32_t max_connections = 10000;
  uint32_t admin_max_connections = 128;
  // SIGTERM waits at most this long for in-flight requests.
  uint32_t drain_timeout_ms = 10000;
  // Ingest worker threads; 0 means one per core.
  uint32_t threads = 0;
  EtcdConfig etcd;
};

struct DatasetConfig {
  std::string kind = "sqlite";  // sqlite | bigquery
  std::string path;             // sqlite; may contain {color}
  std::string project;          // bigquery
  std::string dataset;          // bigquery; may contain {color}
  std::string credentials_file;
  std::string endpoint = "https://bigquery.googleapis.com";
  // Empty: the service-account file's own token_uri (Google's libraries do the same).
  std::string token_uri;
  std::string location;
};

struct ColorConfig {
  HostPort dispatcher_listen;
  // Where splitters send this color's copies; empty: just dispatcher_listen.
  std::vector<HostPort> dispatchers;
  HostPort trace_listen;
  DatasetConfig dataset;
  std::string binary;
  // Ours: the dispatcher's durable spool (segment files and checkpoints).
  std::string spool_dir = "var/{color}-spool";
  uint64_t spool_max_bytes = 8ull << 30;
};

struct TrackerSettings {
  std::string endpoint;
  std::string path;
  std::string measurement_id;
  std::string api_secret_env;
  std::string api_key_env;
  std::string app_id;
};

struct TrackerConfig {
  std::string name;
  std::string kind;  // ga4 | amplitude | heap | webhook | capture
  TrackerSettings live;
  // What the candidate role does: "validate" (the vendor's validation endpoint),
  // "staging" (the `candidate` settings), or "skip". Default per kind.
  std::string candidate_mode;
  TrackerSettings candidate;
  uint32_t timeout_ms = 5000;
  uint32_t max_attempts = 5;
  // Events per vendor request (capped at what the vendor allows) and how long a
  // partial batch waits for more.
  uint32_t batch_max = 0;   // 0: the vendor's own maximum
  uint32_t linger_ms = 20;  // capture: 2
};

struct ScrubConfig {
  bool emails = true;
  bool card_numbers = true;
  bool ip_addresses = true;
  bool phone_numbers = true;
  bool tokens = true;  // bearer tokens, JWTs, API-key-like secrets
  bool url_secrets = true;
  // Query parameters a URL keeps; every other one is removed (with the fragment).
  std::vector<std::string> url_allowed_params = {
      "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "ref", "page", "lang"};
  uint32_t max_value_length = 512;
};

struct PipelineConfig {
  std::map<std::string, std::vector<std::string>> allowlist_events;
  std::vector<std::string> allowlist_any_event;
  ScrubConfig scrub;
  bool record_payloads = true;
  std::vector<TrackerConfig> trackers = {
      TrackerConfig{.name = "capture",
                    .kind = "capture",
                    .live = {.path = "var/{color}-vendor.jsonl"},
                    .candidate_mode = "staging",
                    .candidate = {.path = "var/{color}-vendor.jsonl"},
                    .linger_ms = 2}};
  std::string sentry_dsn_env = "SENTRY_DSN";
  std::string tls_ca_file;

  // The trackers' names: the `vendor` of every deliveries row.
  std::vector<std::string> TrackerNames() const {
    std::vector<std::string> out;
    for (const auto& t : trackers) out.push_back(t.name);
    return out;
  }
};

struct CompareConfig {
  HostPort listen{"127.0.0.1", 8090};
  uint32_t window_seconds = 60;
  uint32_t settle_seconds = 15;
  double max_drift_ratio = 0.001;
  uint32_t min_events_per_window = 100;
  uint32_t windows_required = 3;
  // How many of the latest closed windows a report covers (bounded memory and
  // startup work); the evidence can only accumulate within them.
  uint32_t history_windows = 60;
};

struct Config {
  std::string file;    // absolute path of the file it came from
  std::string folder;  // relative paths were resolved against this
  SplitterConfig splitter;
  ColorConfig blue;
  ColorConfig green;
  PipelineConfig pipeline;
  CompareConfig compare;

  const ColorConfig& color(Color c) const { return c == Color::kBlue ? blue : green; }
};

// Loads and validates FILE. Throws ConfigError.
Config LoadConfig(const std::string& file);
// Same, from text (file is used for messages and relative paths).
Config ParseConfig(const std::string& yaml_text, const std::string& file);

// Replaces every "{color}" in a path or name.
std::string ForColor(const std::string& templ, Color c);

// The resolved configuration as JSON text, for `tandem check-config`.
std::string ConfigToJson(const Config& c);

}  // namespace tandem
