#include "pipeline/trace/trackers/amplitude_tracker.h"
#include "pipeline/trace/trackers/capture_tracker.h"
#include "pipeline/trace/trackers/ga4_tracker.h"
#include "pipeline/trace/trackers/heap_tracker.h"
#include "pipeline/trace/trackers/webhook_tracker.h"

namespace tandem::trace {

std::vector<TrackerPtr> MakeTrackers(const PipelineConfig& config, TrackerDeps deps) {
  std::vector<TrackerPtr> out;
  for (const auto& t : config.trackers) {
    if (t.kind == "capture") out.push_back(std::make_unique<CaptureTracker>(t, deps));
    if (t.kind == "webhook") out.push_back(std::make_unique<WebhookTracker>(t, deps));
    if (t.kind == "ga4") out.push_back(std::make_unique<Ga4Tracker>(t, deps));
    if (t.kind == "amplitude") out.push_back(std::make_unique<AmplitudeTracker>(t, deps));
    if (t.kind == "heap") out.push_back(std::make_unique<HeapTracker>(t, deps));
  }
  return out;
}

}  // namespace tandem::trace
