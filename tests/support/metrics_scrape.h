// Reading one sample from a service's /metrics, for tests.
#pragma once

#include <chrono>
#include <string>

namespace tandem::testing {

// The value of `sample` (name with labels, as Prometheus prints it) at `url`; -1 when absent.
double ScrapeMetric(const std::string& url, const std::string& sample);
// Scrapes until the sample equals `value` or `timeout` passes; returns the last value.
double WaitForMetric(const std::string& url, const std::string& sample, double value,
                     std::chrono::milliseconds timeout);
// Scrapes until the sample is at least `value` or `timeout` passes; returns the last value.
double WaitForMetricAtLeast(const std::string& url, const std::string& sample, double value,
                            std::chrono::milliseconds timeout);

}  // namespace tandem::testing
