#include "common/metrics.h"

#include <prometheus/text_serializer.h>

namespace tandem {

std::string Metrics::Serialize() const {
  prometheus::TextSerializer s;
  return s.Serialize(registry_->Collect());
}

prometheus::Family<prometheus::Counter>& Metrics::Counter(const std::string& name,
                                                          const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& Metrics::Gauge(const std::string& name,
                                                      const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Histogram>& Metrics::Histogram(const std::string& name,
                                                              const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
}

prometheus::Histogram::BucketBoundaries Metrics::LatencyBuckets() {
  return {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace tandem
