#include "common/config.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/url.h"
#include "common/yaml_reader.h"

namespace tandem {
namespace fs = std::filesystem;

std::string ForColor(const std::string& templ, Color c) {
  std::string out = templ;
  const std::string needle = "{color}";
  for (size_t pos = out.find(needle); pos != std::string::npos; pos = out.find(needle, pos)) {
    out.replace(pos, needle.size(), ColorName(c));
  }
  return out;
}

namespace {

std::string Resolve(const std::string& folder, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(folder) / p).lexically_normal().string();
}

void RequireHttps(YamlMap& m, const std::string& key, const std::string& url) {
  if (url.empty()) return;
  auto u = Url::Parse(url);
  if (!u || !u->tls) m.Fail(m.Get(key), key, "must be an https:// URL, got '" + url + "'");
}

void ReadSplitter(YamlMap& m, SplitterConfig& s) {
  m.Addr("listen", s.listen, true);
  m.Addr("admin_listen", s.admin_listen, true);
  m.Str("admin_token_env", s.admin_token_env);
  m.Str("state_file", s.state_file);
  std::string live = ColorName(s.initial_live);
  m.Str("initial_live", live);
  auto c = ParseColor(live);
  if (!c)
    m.Fail(m.Get("initial_live"), "initial_live", "must be blue or green, got '" + live + "'");
  s.initial_live = *c;
  m.Double("mirror_fraction", s.mirror_fraction, 0.0, 1.0);
  m.U64("max_body_bytes", s.max_body_bytes, 1);
  if (s.max_body_bytes > kMaxBodyBytesLimit) {
    m.Fail(m.Get("max_body_bytes"), "max_body_bytes",
           "must be at most " + std::to_string(kMaxBodyBytesLimit) +
               " (the dispatcher's spool cannot hold larger events)");
  }
  m.U32("upstream_timeout_ms", s.upstream_timeout_ms, 1);
  m.U32("max_inflight_per_color", s.max_inflight_per_color, 1);
  m.U32("candidate_max_connections", s.candidate_max_connections, 1);
  m.U32("candidate_retry_ms", s.candidate_retry_ms, 0);
  m.U64("candidate_retry_bytes", s.candidate_retry_bytes, 0);
  m.StrList("cors_origins", s.cors_origins);
  m.Str("compare_url", s.compare_url);
  if (!Url::Parse(s.compare_url)) {
    m.Fail(m.Get("compare_url"), "compare_url",
           "must be an http:// or https:// URL, got '" + s.compare_url + "'");
  }
  m.U32("header_timeout_ms", s.header_timeout_ms, 1);
  m.U32("idle_timeout_ms", s.idle_timeout_ms, 1);
  m.U32("first_byte_timeout_ms", s.first_byte_timeout_ms, 1);
  m.U32("max_connections", s.max_connections, 16);
  m.U32("admin_max_connections", s.admin_max_connections, 4);
  m.U32("drain_timeout_ms", s.drain_timeout_ms, 1);
  m.U32("threads", s.threads, 0, 256);
  m.Map("etcd", [&](YamlMap& e) {
    e.StrList("endpoints", s.etcd.endpoints);
    for (const auto& ep : s.etcd.endpoints) {
      auto u = Url::Parse(ep);
      // The watch streams over plain HTTP only (see docs/decisions.md, Fleet).
      if (!u || u->tls || u->target != "/") {
        e.Fail(e.Get("endpoints"), "endpoints",
               "each must be http://HOST:PORT of an etcd member, got '" + ep + "'");
      }
    }
    e.Str("key", s.etcd.key);
    if (s.etcd.key.empty()) e.Fail(e.Get("key"), "key", "must not be empty");
  });
}

void ReadDataset(YamlMap& m, DatasetConfig& d) {
  m.Str("kind", d.kind, true);
  if (d.kind == "sqlite") {
    m.Str("path", d.path, true);
  } else if (d.kind == "bigquery") {
    m.Str("project", d.project, true);
    m.Str("dataset", d.dataset, true);
    m.Str("credentials_file", d.credentials_file, true);
    m.Str("endpoint", d.endpoint);
    RequireHttps(m, "endpoint", d.endpoint);
    m.Str("token_uri", d.token_uri);
    RequireHttps(m, "token_uri", d.token_uri);
    m.Str("location", d.location);
  } else {
    m.Fail(m.Get("kind"), "kind", "must be sqlite or bigquery, got '" + d.kind + "'");
  }
}

void ReadColor(YamlMap& m, ColorConfig& c) {
  m.Addr("dispatcher_listen", c.dispatcher_listen, true);
  std::vector<std::string> dispatchers;
  m.StrList("dispatchers", dispatchers);
  for (const auto& d : dispatchers) {
    auto hp = HostPort::Parse(d);
    if (!hp) m.Fail(m.Get("dispatchers"), "dispatchers", "expected HOST:PORT, got '" + d + "'");
    c.dispatchers.push_back(*hp);
  }
  m.Addr("trace_listen", c.trace_listen, true);
  m.Map(
      "dataset", [&](YamlMap& d) { ReadDataset(d, c.dataset); }, true);
  m.Str("binary", c.binary);
  m.Str("spool_dir", c.spool_dir);
  m.U64("spool_max_bytes", c.spool_max_bytes, 1 << 20);
}

void ReadTrackerSettings(YamlMap& m, TrackerSettings& t, const std::string& kind) {
  m.Str("endpoint", t.endpoint);
  RequireHttps(m, "endpoint", t.endpoint);
  m.Str("path", t.path);
  m.Str("measurement_id", t.measurement_id);
  m.Str("api_secret_env", t.api_secret_env);
  m.Str("api_key_env", t.api_key_env);
  m.Str("app_id", t.app_id);
}

const char* DefaultEndpoint(const std::string& kind) {
  if (kind == "ga4") return "https://www.google-analytics.com";
  if (kind == "amplitude") return "https://api2.amplitude.com";
  if (kind == "heap") return "https://heapanalytics.com";
  return "";
}

void ReadTracker(const YAML::Node& n, const std::string& file, size_t index, TrackerConfig& t) {
  YamlMap m(n, file, "pipeline.trackers[" + std::to_string(index) + "]");
  m.Str("name", t.name, true);
  m.Str("kind", t.kind, true);
  static const std::set<std::string> kinds = {"ga4", "amplitude", "heap", "webhook", "capture"};
  if (!kinds.count(t.kind)) {
    m.Fail(m.Get("kind"), "kind",
           "must be one of ga4, amplitude, heap, webhook, capture; got '" + t.kind + "'");
  }
  ReadTrackerSettings(m, t.live, t.kind);
  if (t.live.endpoint.empty()) t.live.endpoint = DefaultEndpoint(t.kind);
  if (t.kind == "webhook" && t.live.endpoint.empty())
    m.FailAtKey("name", "a webhook tracker requires endpoint");
  if (t.kind == "capture" && t.live.path.empty())
    m.FailAtKey("name", "a capture tracker requires path");
  if (t.kind == "ga4" && (t.live.measurement_id.empty() || t.live.api_secret_env.empty()))
    m.FailAtKey("name", "a ga4 tracker requires measurement_id and api_secret_env");
  if (t.kind == "amplitude" && t.live.api_key_env.empty())
    m.FailAtKey("name", "an amplitude tracker requires api_key_env");
  if (t.kind == "heap" && t.live.app_id.empty())
    m.FailAtKey("name", "a heap tracker requires app_id");
  t.candidate_mode = t.kind == "ga4" ? "validate" : (t.kind == "capture" ? "staging" : "skip");
  m.Str("candidate_mode", t.candidate_mode);
  if (t.candidate_mode != "validate" && t.candidate_mode != "staging" &&
      t.candidate_mode != "skip") {
    m.Fail(m.Get("candidate_mode"), "candidate_mode", "must be validate, staging or skip");
  }
  if (t.candidate_mode == "validate" && t.kind != "ga4") {
    m.Fail(m.Get("candidate_mode"), "candidate_mode", "validate is only offered by ga4");
  }
  t.candidate = t.live;
  m.Map("candidate", [&](YamlMap& c) { ReadTrackerSettings(c, t.candidate, t.kind); });
  m.U32("timeout_ms", t.timeout_ms, 1);
  m.U32("max_attempts", t.max_attempts, 1, 100);
  m.U32("batch_max", t.batch_max, 0, 100000);
  t.linger_ms = t.kind == "capture" ? 2 : 20;  // a local file needs no long wait
  m.U32("linger_ms", t.linger_ms, 0, 60000);
  m.Finish();
}

void ReadPipeline(YamlMap& m, PipelineConfig& p) {
  m.Map("allowlist", [&](YamlMap& a) {
    YAML::Node ev = a.Get("events");
    a.Map("events", [&](YamlMap& e) {
      if (!ev) return;
      for (auto it = ev.begin(); it != ev.end(); ++it) {
        const std::string name = it->first.Scalar();
        std::vector<std::string> props;
        e.StrList(name, props);
        p.allowlist_events[name] = props;
      }
    });
    a.StrList("any_event", p.allowlist_any_event);
  });
  m.Map("scrub", [&](YamlMap& s) {
    ScrubConfig& c = p.scrub;
    s.Bool("emails", c.emails);
    s.Bool("card_numbers", c.card_numbers);
    s.Bool("ip_addresses", c.ip_addresses);
    s.Bool("phone_numbers", c.phone_numbers);
    s.Bool("tokens", c.tokens);
    s.Bool("url_secrets", c.url_secrets);
    s.StrList("url_allowed_params", c.url_allowed_params);
    s.U32("max_value_length", c.max_value_length, 1);
  });
  if (m.Has("trackers")) {
    YAML::Node tr = m.Get("trackers");
    if (!tr.IsSequence()) m.Fail(tr, "trackers", "expected a list of trackers");
    p.trackers.clear();
    std::set<std::string> names;
    for (size_t i = 0; i < tr.size(); ++i) {
      TrackerConfig t;
      ReadTracker(tr[i], m.file(), i, t);
      if (!names.insert(t.name).second)
        FailAt(m.file(), tr[i].Mark(), "pipeline.trackers: duplicate name '" + t.name + "'");
      p.trackers.push_back(std::move(t));
    }
  }
  m.Consume("trackers");  // parsed above
  m.Bool("record_payloads", p.record_payloads);
  m.Map("sentry", [&](YamlMap& s) { s.Str("dsn_env", p.sentry_dsn_env); });
  m.Map("tls", [&](YamlMap& s) { s.Str("ca_file", p.tls_ca_file); });
}

void ReadCompare(YamlMap& m, CompareConfig& c) {
  m.Addr("listen", c.listen);
  m.U32("window_seconds", c.window_seconds, 1);
  m.U32("settle_seconds", c.settle_seconds, 0);
  m.Double("max_drift_ratio", c.max_drift_ratio, 0.0, 1.0);
  m.U32("min_events_per_window", c.min_events_per_window, 0);
  m.U32("windows_required", c.windows_required, 1, 10000);
  m.U32("history_windows", c.history_windows, 1, 100000);
  if (c.history_windows < c.windows_required) {
    const char* key = m.Has("history_windows") ? "history_windows" : "windows_required";
    m.FailAtKey(key, "history_windows must be at least windows_required (" +
                         std::to_string(c.windows_required) + ")");
  }
}

// The node at `path` under root, or an undefined node.
YAML::Node NodeAt(const YAML::Node& root, const std::vector<const char*>& path) {
  YAML::Node n;
  n.reset(root);  // rebinds: yaml-cpp's operator= would write into the document
  for (const char* key : path) {
    if (!n || !n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& here = n;  // const lookup: never adds the key
    n.reset(here[key]);
  }
  return n;
}

// Where to point at for a conflict: the first of `paths` the file sets.
YAML::Mark MarkOf(const YAML::Node& root, const std::vector<std::vector<const char*>>& paths) {
  for (const auto& p : paths) {
    if (YAML::Node n = NodeAt(root, p); n && n.IsDefined()) return n.Mark();
  }
  return YAML::Mark::null_mark();
}

bool SameListener(const HostPort& a, const HostPort& b) {
  auto any = [](const std::string& h) { return h == "0.0.0.0" || h == "::"; };
  return a.port != 0 && a.port == b.port && (a.host == b.host || any(a.host) || any(b.host));
}

// Every listener needs its own address, and the colors never share a dataset or
// a spool: compare would judge a color against itself.
void CheckNothingShared(const Config& c, const YAML::Node& root) {
  struct Listener {
    std::string key;
    HostPort addr;
    std::vector<const char*> path;
  };
  const Listener listeners[] = {
      {"splitter.listen", c.splitter.listen, {"splitter", "listen"}},
      {"splitter.admin_listen", c.splitter.admin_listen, {"splitter", "admin_listen"}},
      {"colors.blue.dispatcher_listen",
       c.blue.dispatcher_listen,
       {"colors", "blue", "dispatcher_listen"}},
      {"colors.blue.trace_listen", c.blue.trace_listen, {"colors", "blue", "trace_listen"}},
      {"colors.green.dispatcher_listen",
       c.green.dispatcher_listen,
       {"colors", "green", "dispatcher_listen"}},
      {"colors.green.trace_listen", c.green.trace_listen, {"colors", "green", "trace_listen"}},
      {"compare.listen", c.compare.listen, {"compare", "listen"}},
  };
  for (size_t i = 0; i < std::size(listeners); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (!SameListener(listeners[i].addr, listeners[j].addr)) continue;
      const Listener& later = NodeAt(root, listeners[i].path) ? listeners[i] : listeners[j];
      const Listener& other = &later == &listeners[i] ? listeners[j] : listeners[i];
      FailAt(c.file, MarkOf(root, {later.path}),
             later.key + ": " + later.addr.ToString() + " is also " + other.key +
                 "; every listener needs its own address");
    }
  }
  auto dataset_id = [](const DatasetConfig& d, Color color) {
    return d.kind == "sqlite"
               ? "sqlite:" + fs::path(ForColor(d.path, color)).lexically_normal().string()
               : "bigquery:" + d.project + "." + ForColor(d.dataset, color);
  };
  if (dataset_id(c.blue.dataset, Color::kBlue) == dataset_id(c.green.dataset, Color::kGreen)) {
    FailAt(
        c.file, MarkOf(root, {{"colors", "green", "dataset"}}),
        "colors.green.dataset: the same dataset as colors.blue.dataset; each color needs its own "
        "(compare would judge a color against itself)");
  }
  for (const auto& g : c.green.dispatchers) {
    for (const auto& b : c.blue.dispatchers) {
      if (!SameListener(g, b)) continue;
      FailAt(c.file,
             MarkOf(root, {{"colors", "green", "dispatchers"},
                           {"colors", "blue", "dispatchers"},
                           {"colors", "green", "dispatcher_listen"}}),
             "colors.green.dispatchers: " + g.ToString() +
                 " is also a dispatcher of colors.blue; each color needs its own dispatchers "
                 "(one would take the other's copies)");
    }
  }
  std::string blue_spool =
      fs::path(ForColor(c.blue.spool_dir, Color::kBlue)).lexically_normal().string();
  std::string green_spool =
      fs::path(ForColor(c.green.spool_dir, Color::kGreen)).lexically_normal().string();
  if (blue_spool == green_spool) {
    FailAt(c.file,
           MarkOf(root, {{"colors", "green", "spool_dir"},
                         {"colors", "blue", "spool_dir"},
                         {"colors", "green"}}),
           "colors.green.spool_dir: the same folder (" + green_spool +
               ") as colors.blue.spool_dir; each color needs its own spool");
  }
}

}  // namespace

Config ParseConfig(const std::string& yaml_text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    FailAt(file, e.mark, e.msg);
  }
  Config c;
  c.file = file;
  c.folder = fs::absolute(fs::path(file)).parent_path().string();
  YamlMap top(root, file, "");
  if (!root || root.IsNull())
    FailAt(file, YAML::Mark::null_mark(), "the file is empty; splitter and colors are required");
  top.Map(
      "splitter", [&](YamlMap& m) { ReadSplitter(m, c.splitter); }, true);
  top.Map(
      "colors",
      [&](YamlMap& m) {
        m.Map(
            "blue", [&](YamlMap& b) { ReadColor(b, c.blue); }, true);
        m.Map(
            "green", [&](YamlMap& g) { ReadColor(g, c.green); }, true);
      },
      true);
  top.Map("pipeline", [&](YamlMap& m) { ReadPipeline(m, c.pipeline); });
  top.Map("compare", [&](YamlMap& m) { ReadCompare(m, c.compare); });
  top.Finish();

  c.splitter.state_file = Resolve(c.folder, c.splitter.state_file);
  for (ColorConfig* cc : {&c.blue, &c.green}) {
    if (cc->dispatchers.empty()) cc->dispatchers.push_back(cc->dispatcher_listen);
    cc->dataset.path = Resolve(c.folder, cc->dataset.path);
    cc->dataset.credentials_file = Resolve(c.folder, cc->dataset.credentials_file);
    cc->binary = Resolve(c.folder, cc->binary);
    cc->spool_dir = Resolve(c.folder, cc->spool_dir);
  }
  for (auto& t : c.pipeline.trackers) {
    t.live.path = Resolve(c.folder, t.live.path);
    t.candidate.path = Resolve(c.folder, t.candidate.path);
  }
  c.pipeline.tls_ca_file = Resolve(c.folder, c.pipeline.tls_ca_file);
  CheckNothingShared(c, root);
  return c;
}

Config LoadConfig(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw ConfigError(file + ":1:1: cannot read the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), file);
}

}  // namespace tandem
