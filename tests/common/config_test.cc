#include "common/config.h"

#include <gtest/gtest.h>

#include <cstring>

namespace tandem {
namespace {

const char* kMinimal = R"(splitter:
  listen: "127.0.0.1:8080"
  admin_listen: "127.0.0.1:8081"
colors:
  blue:
    dispatcher_listen: "127.0.0.1:8180"
    trace_listen: "127.0.0.1:8181"
    dataset: { kind: sqlite, path: var/blue.db }
  green:
    dispatcher_listen: "127.0.0.1:8280"
    trace_listen: "127.0.0.1:8281"
    dataset: { kind: sqlite, path: var/green.db }
)";

std::string ErrorOf(const std::string& yaml) {
  try {
    ParseConfig(yaml, "/etc/tandem/t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, RequiredKeysAloneWorkWithDefaults) {
  Config c = ParseConfig(kMinimal, "/etc/tandem/t.yaml");
  EXPECT_EQ(c.splitter.listen.port, 8080);
  EXPECT_EQ(c.splitter.initial_live, Color::kGreen);
  EXPECT_EQ(c.splitter.max_body_bytes, 65536u);
  EXPECT_EQ(c.splitter.max_inflight_per_color, 8192u);
  EXPECT_EQ(c.splitter.state_file, "/etc/tandem/var/splitter-state.json");
  EXPECT_EQ(c.blue.dataset.path, "/etc/tandem/var/blue.db");
  EXPECT_EQ(c.compare.windows_required, 3u);
  EXPECT_DOUBLE_EQ(c.compare.max_drift_ratio, 0.001);
  EXPECT_EQ(c.compare.listen.port, 8090);
}

TEST(Config, UnknownKeyNamesFileLineColumnAndKey) {
  std::string y = std::string(kMinimal) + "compare:\n  windows_requird: 3\n";
  EXPECT_EQ(ErrorOf(y), "/etc/tandem/t.yaml:14:3: unknown key 'compare.windows_requird'");
}

TEST(Config, MissingRequiredKeyIsAnError) {
  std::string y = kMinimal;
  y.replace(y.find("  admin_listen"), std::string("  admin_listen: \"127.0.0.1:8081\"\n").size(),
            "");
  EXPECT_NE(ErrorOf(y).find("splitter.admin_listen: is required"), std::string::npos) << ErrorOf(y);
}

TEST(Config, BadValuesAreRejectedWithTheirPosition) {
  std::string y = kMinimal;
  y.replace(y.find("127.0.0.1:8080"), 14, "nowhere");
  EXPECT_EQ(ErrorOf(y),
            "/etc/tandem/t.yaml:2:11: splitter.listen: expected HOST:PORT, got 'nowhere'");
  std::string z = std::string(kMinimal) + "compare:\n  max_drift_ratio: 2\n";
  EXPECT_NE(ErrorOf(z).find("t.yaml:14:20: compare.max_drift_ratio: must be between 0 and 1"),
            std::string::npos)
      << ErrorOf(z);
  EXPECT_NE(ErrorOf("splitter: [\n").find("t.yaml:"), std::string::npos);
}

TEST(Config, HttpVendorUrlsAreRejected) {
  std::string y = std::string(kMinimal) +
                  "pipeline:\n  trackers:\n    - { name: hooks, kind: webhook, endpoint: "
                  "\"http://hooks.example.com/x\" }\n";
  EXPECT_NE(ErrorOf(y).find("must be an https:// URL"), std::string::npos) << ErrorOf(y);
  std::string w =
      std::string(kMinimal) + "pipeline:\n  trackers:\n    - { name: hooks, kind: webhook }\n";
  EXPECT_NE(ErrorOf(w).find("requires endpoint"), std::string::npos) << ErrorOf(w);
}

TEST(Config, TrackersGetDocumentedEndpointsAndColorPlaceholders) {
  std::string y = std::string(kMinimal) +
                  "pipeline:\n  trackers:\n    - { name: ga, kind: ga4, measurement_id: G-1, "
                  "api_secret_env: GA_SECRET }\n"
                  "    - { name: capture, kind: capture, path: \"out/{color}-vendor.jsonl\" }\n";
  Config c = ParseConfig(y, "/srv/t.yaml");
  ASSERT_EQ(c.pipeline.trackers.size(), 2u);
  EXPECT_EQ(c.pipeline.trackers[0].live.endpoint, "https://www.google-analytics.com");
  EXPECT_EQ(c.pipeline.trackers[0].candidate_mode, "validate");
  EXPECT_EQ(ForColor(c.pipeline.trackers[1].live.path, Color::kBlue), "/srv/out/blue-vendor.jsonl");
}

// kMinimal with one line replaced.
std::string With(const std::string& from, const std::string& to) {
  std::string y = kMinimal;
  y.replace(y.find(from), from.size(), to);
  return y;
}

TEST(Config, TheColorsNeverShareADataset) {
  EXPECT_EQ(ErrorOf(With("path: var/green.db", "path: ./var/../var/blue.db")),
            "/etc/tandem/t.yaml:12:14: colors.green.dataset: the same dataset as "
            "colors.blue.dataset; each color needs its own (compare would judge a color against "
            "itself)");
  // One template for both is fine: {color} makes them two files.
  std::string both = With("path: var/green.db", "path: \"var/{color}.db\"");
  both.replace(both.find("path: var/blue.db"), 17, "path: \"var/{color}.db\"");
  EXPECT_EQ(ErrorOf(both), "");
  std::string bq = std::string(kMinimal);
  for (const char* c : {"var/blue.db", "var/green.db"}) {
    bq.replace(bq.find(std::string("kind: sqlite, path: ") + c),
               std::string("kind: sqlite, path: ").size() + strlen(c),
               "kind: bigquery, project: p, dataset: tandem, credentials_file: sa.json");
  }
  EXPECT_NE(ErrorOf(bq).find("colors.green.dataset: the same dataset"), std::string::npos)
      << ErrorOf(bq);
}

TEST(Config, TheColorsNeverShareASpool) {
  std::string y =
      With("    dataset: { kind: sqlite, path: var/green.db }\n",
           "    dataset: { kind: sqlite, path: var/green.db }\n    spool_dir: var/blue-spool\n");
  EXPECT_EQ(
      ErrorOf(y),
      "/etc/tandem/t.yaml:13:16: colors.green.spool_dir: the same folder "
      "(/etc/tandem/var/blue-spool) as colors.blue.spool_dir; each color needs its own spool");
}

TEST(Config, TheColorsNeverShareADispatcher) {
  std::string y = kMinimal;
  y.insert(y.find("    trace_listen: \"127.0.0.1:8281\""),
           "    dispatchers: [\"127.0.0.1:8280\", \"127.0.0.1:8180\"]\n");
  EXPECT_EQ(ErrorOf(y),
            "/etc/tandem/t.yaml:11:18: colors.green.dispatchers: 127.0.0.1:8180 is also a "
            "dispatcher of colors.blue; each color needs its own dispatchers (one would take the "
            "other's copies)");
  // A list of its own is fine.
  y = kMinimal;
  y.insert(y.find("    trace_listen: \"127.0.0.1:8281\""),
           "    dispatchers: [\"127.0.0.1:8280\", \"127.0.0.2:8280\"]\n");
  EXPECT_EQ(ErrorOf(y), "");
}

TEST(Config, EveryListenerNeedsItsOwnAddress) {
  EXPECT_EQ(ErrorOf(With("trace_listen: \"127.0.0.1:8281\"", "trace_listen: \"127.0.0.1:8180\"")),
            "/etc/tandem/t.yaml:11:19: colors.green.trace_listen: 127.0.0.1:8180 is also "
            "colors.blue.dispatcher_listen; every listener needs its own address");
  EXPECT_NE(ErrorOf(With("\"127.0.0.1:8280\"", "\"0.0.0.0:8080\"")).find("is also splitter.listen"),
            std::string::npos);
  // Port 0 is "any free port": never a conflict.
  std::string zeros = kMinimal;
  for (const char* p : {"8180", "8181", "8280", "8281"}) zeros.replace(zeros.find(p), 4, "0");
  EXPECT_EQ(ErrorOf(zeros), "");
}

TEST(Config, MaxBodyBytesStaysWithinWhatTheSpoolHolds) {
  std::string y = With("  admin_listen: \"127.0.0.1:8081\"\n",
                       "  admin_listen: \"127.0.0.1:8081\"\n  max_body_bytes: 67108864\n");
  EXPECT_NE(ErrorOf(y).find("t.yaml:4:19: splitter.max_body_bytes: must be at most 33554432"),
            std::string::npos)
      << ErrorOf(y);
}

TEST(Config, CheckConfigPrintsValuesThatAreNotUtf8) {
  // Found by the config fuzzer: the resolved config's JSON threw on such bytes.
  std::string y = With("admin_listen: \"127.0.0.1:8081\"",
                       "admin_listen: \"127.0.0.1:8081\"\n  admin_token_env: \"T\xfe\xff\"");
  Config c = ParseConfig(y, "/etc/tandem/t.yaml");
  std::string json;
  ASSERT_NO_THROW(json = ConfigToJson(c));
  EXPECT_NE(json.find("\"admin_token_env\""), std::string::npos);
}

TEST(Config, TheEmbeddedDefaultLoads) {
  Config c = LoadConfig(std::string(TANDEM_SOURCE_DIR) + "/config/local.yaml");
  EXPECT_EQ(c.splitter.listen.ToString(), "127.0.0.1:8080");
  EXPECT_EQ(c.green.dispatcher_listen.ToString(), "127.0.0.1:8280");
  EXPECT_EQ(c.pipeline.trackers.at(0).kind, "capture");
}

}  // namespace
}  // namespace tandem
