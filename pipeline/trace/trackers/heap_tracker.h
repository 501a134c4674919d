// `heap`: Heap's server-side track API in its bulk form (POST /api/track with
// app_id and an `events` array, up to 1000 a request), idempotency_key = tandem
// id so a resend is dropped. Properties are strings or numbers below 1024
// characters, as Heap requires: arrays are joined with "||" as Heap stores them.
#pragma once

#include "pipeline/trace/http_tracker.h"

namespace tandem::trace {

class HeapTracker : public HttpTracker {
 public:
  static constexpr size_t kMaxBatch = 1000;
  HeapTracker(const TrackerConfig& config, TrackerDeps deps)
      : HttpTracker(config, deps, kMaxBatch) {}
  nlohmann::json Payload(const CleanEvent& e) const override;

  // Unix milliseconds as ISO 8601 UTC with milliseconds ("2026-11-28T10:16:31.123Z").
  static std::string IsoTime(int64_t unix_ms);

 protected:
  http::Request BuildRequest(Target target, const Url& endpoint,
                             const std::vector<const nlohmann::json*>& batch) const override;
};

}  // namespace tandem::trace
