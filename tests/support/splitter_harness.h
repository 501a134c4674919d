// A real `tandem splitter` process in front of two stand-in dispatchers and a
// stand-in compare, all on loopback.
#pragma once

#include <memory>
#include <string>

#include "common/fetch.h"
#include "tests/support/process.h"
#include "tests/support/stub_upstream.h"
#include "tests/support/test_config.h"

namespace tandem::testing {

inline constexpr const char* kAdminToken = "test-admin-token-0123456789";
// The environment entry that hands the token to a `tandem` process (the test
// config's admin_token_env).
inline const std::string kTokenEnv = std::string("TANDEM_TEST_ADMIN_TOKEN=") + kAdminToken;

struct SplitterHarnessOptions {
  std::string extra_splitter_yaml;  // more keys under `splitter:`, each line indented by 2
  bool blue_down = false;           // nothing listens at blue's dispatcher_listen
  bool compare_down = false;
  ProcessLimits limits;  // for the splitter process
};

class SplitterHarness {
 public:
  explicit SplitterHarness(SplitterHarnessOptions o = {});

  // Starts (or restarts) the splitter and waits until it listens.
  void Start();
  // SIGTERM and wait; returns the exit code.
  std::optional<int> Stop();

  std::string IngestUrl(const std::string& path = "/v1/events") const;
  std::string AdminUrl(const std::string& path) const;
  http::FetchResult Post(const std::string& body,
                         const std::string& content_type = "application/json",
                         std::vector<std::pair<std::string, std::string>> headers = {});
  http::FetchResult Admin(http::Verb verb, const std::string& path, const std::string& body = "",
                          const std::string& token = kAdminToken);
  // The value of one sample in the splitter's /metrics, e.g.
  // tandem_splitter_forwarded_total{color="blue",outcome="ok",role="candidate"}; -1 when absent.
  double Metric(const std::string& sample);
  // Scrapes until the sample equals `value` or `timeout` passes; returns the last value.
  // (A candidate copy's outcome is counted when its answer arrives, after the stand-in saw it.)
  double WaitForMetric(const std::string& sample, double value,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

  std::unique_ptr<StubUpstream> blue, green, compare;
  uint16_t blue_port = 0;
  uint16_t compare_port_ = 0;
  TempDir dir;
  TestConfig config;
  std::string config_path;
  std::unique_ptr<Process> proc;
  uint16_t ingest_port = 0, admin_port = 0;
  SplitterHarnessOptions opts;

  void WriteConfig(const std::string& extra_splitter_yaml);
};

}  // namespace tandem::testing
