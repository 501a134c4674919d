#include "tests/support/metrics_scrape.h"

#include <sstream>

#include "common/fetch.h"

namespace tandem::testing {

double ScrapeMetric(const std::string& url, const std::string& sample) {
  auto r = http::Fetch(http::Verb::get, url, "", "", std::chrono::seconds(10));
  std::istringstream in(r.res.body());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
  }
  return -1;
}

double WaitForMetric(const std::string& url, const std::string& sample, double value,
                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  double v = ScrapeMetric(url, sample);
  while (v != value && std::chrono::steady_clock::now() < deadline) v = ScrapeMetric(url, sample);
  return v;
}

}  // namespace tandem::testing
