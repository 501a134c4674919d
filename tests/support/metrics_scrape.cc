#include "tests/support/metrics_scrape.h"

#include <functional>
#include <sstream>
#include <thread>

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

namespace {

// Scrapes until `done(value)` or the deadline, pausing between scrapes (a few
// milliseconds, growing to 100) so a wait does not spin a core the services need.
double WaitFor(const std::string& url, const std::string& sample,
               const std::function<bool(double)>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(2);
  double v = ScrapeMetric(url, sample);
  while (!done(v) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
    v = ScrapeMetric(url, sample);
  }
  return v;
}

}  // namespace

double WaitForMetric(const std::string& url, const std::string& sample, double value,
                     std::chrono::milliseconds timeout) {
  return WaitFor(
      url, sample, [value](double v) { return v == value; }, timeout);
}

double WaitForMetricAtLeast(const std::string& url, const std::string& sample, double value,
                            std::chrono::milliseconds timeout) {
  return WaitFor(
      url, sample, [value](double v) { return v >= value; }, timeout);
}

}  // namespace tandem::testing
