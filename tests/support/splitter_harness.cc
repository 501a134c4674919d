#include "tests/support/splitter_harness.h"

#include <signal.h>

#include "tests/support/metrics_scrape.h"

namespace tandem::testing {

SplitterHarness::SplitterHarness(SplitterHarnessOptions o) : opts(std::move(o)) {
  green = std::make_unique<StubUpstream>();
  if (opts.blue_down) {
    blue_port = ClosedPort();
  } else {
    blue = std::make_unique<StubUpstream>();
    blue_port = blue->port();
  }
  uint16_t compare_port = ClosedPort();
  if (!opts.compare_down) {
    compare = std::make_unique<StubUpstream>();
    compare->set_status(200);
    compare_port = compare->port();
  }
  compare_port_ = compare_port;
  WriteConfig(opts.extra_splitter_yaml);
}

void SplitterHarness::WriteConfig(const std::string& extra) {
  config.compare_url = "http://127.0.0.1:" + std::to_string(compare_port_);
  config.splitter_extra = extra;
  config.blue.dispatcher_listen = "127.0.0.1:" + std::to_string(blue_port);
  config.green.dispatcher_listen = "127.0.0.1:" + std::to_string(green->port());
  config_path = config.Write(dir.path());
}

void SplitterHarness::Start() {
  proc = std::make_unique<Process>(
      std::vector<std::string>{TandemBinary(), "splitter", "-c", config_path},
      std::vector<std::string>{kTokenEnv}, opts.limits);
  auto line = proc->WaitForLog("listening");
  if (!line) throw std::runtime_error("the splitter did not start:\n" + proc->Output());
  ingest_port = (*line)["ingest_port"].get<uint16_t>();
  admin_port = (*line)["admin_port"].get<uint16_t>();
}

std::optional<int> SplitterHarness::Stop() {
  proc->Signal(SIGTERM);
  return proc->Wait();
}

std::string SplitterHarness::IngestUrl(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(ingest_port) + path;
}

std::string SplitterHarness::AdminUrl(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(admin_port) + path;
}

http::FetchResult SplitterHarness::Post(const std::string& body, const std::string& content_type,
                                        std::vector<std::pair<std::string, std::string>> headers) {
  return http::FetchWith(http::Verb::post, IngestUrl(), body, content_type, headers,
                         std::chrono::seconds(10));
}

http::FetchResult SplitterHarness::Admin(http::Verb verb, const std::string& path,
                                         const std::string& body, const std::string& token) {
  return http::Fetch(verb, AdminUrl(path), body, token, std::chrono::seconds(10));
}

double SplitterHarness::WaitForMetric(const std::string& sample, double value,
                                      std::chrono::milliseconds timeout) {
  return testing::WaitForMetric(AdminUrl("/metrics"), sample, value, timeout);
}

double SplitterHarness::Metric(const std::string& sample) {
  return ScrapeMetric(AdminUrl("/metrics"), sample);
}

}  // namespace tandem::testing
