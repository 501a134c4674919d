// Prometheus metrics: one registry per process, served as text at /metrics.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace tandem {

class Metrics {
 public:
  Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}
  prometheus::Registry& registry() { return *registry_; }
  // Prometheus text exposition format.
  std::string Serialize() const;

  prometheus::Family<prometheus::Counter>& Counter(const std::string& name,
                                                   const std::string& help);
  prometheus::Family<prometheus::Gauge>& Gauge(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Histogram>& Histogram(const std::string& name,
                                                       const std::string& help);

  // Latency buckets in seconds, 250us to 10s.
  static prometheus::Histogram::BucketBoundaries LatencyBuckets();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace tandem
