// POST /v1/events: stamp the request, send it to the live dispatcher and answer
// with its reply; send a fire-and-forget copy to the candidate (CandidateMirror:
// the candidate never delays or fails the live path). Also serves the SDK and
// answers CORS preflights.
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/io_workers.h"
#include "splitter/candidate_mirror.h"
#include "splitter/dispatcher_set.h"
#include "splitter/live_state.h"
#include "splitter/mirror_sample.h"
#include "splitter/splitter_metrics.h"

namespace tandem::splitter {

// What SIGHUP may change without a restart.
struct IngestSettings {
  MirrorSample sample;  // mirror_fraction's devices
  uint32_t upstream_timeout_ms = 2000;
  uint32_t max_inflight_per_color = 8192;
  uint64_t max_body_bytes = 65536;
  MirrorSettings mirror;
  std::set<std::string> cors_origins;
  static IngestSettings From(const SplitterConfig& c);
};

class IngestHandler : public http::Handler {
 public:
  IngestHandler(IoWorkers& workers, const Config& config, LiveState& state,
                SplitterMetrics& metrics);

  void Handle(http::Request&& req, const http::RequestInfo& info, http::Respond respond) override;

  // Applies new settings on every worker thread (SIGHUP).
  void Reload(const IngestSettings& s);
  // Requests sent to dispatchers and not yet answered, both roles.
  size_t inflight() const;
  size_t inflight(Color c, bool candidate) const;
  // Candidate copies of this color waiting to be sent again.
  size_t parked(Color c) const;

 private:
  struct Worker {
    std::shared_ptr<const IngestSettings> settings;
    // Indexed by Color; a color's dispatchers and mirror swap roles when it is promoted.
    std::unique_ptr<DispatcherSet> live[2];
    std::unique_ptr<CandidateMirror> mirror[2];
  };
  // Sends the live copy; one a dispatcher could not even take (connection
  // refused, host unreachable: nothing was written) is sent to the color's next
  // dispatcher (each at most once), within the one upstream timeout.
  void Forward(Worker& w, http::Request&& up, Color live, http::Respond respond,
               const std::string& origin);
  void SendLive(Worker& w, http::Request&& up, Color live, size_t address, uint64_t tried,
                std::chrono::steady_clock::time_point start, http::Respond respond,
                const std::string& origin);
  void Finish(http::Respond& respond, http::Response&& res, const std::string& origin);
  void AddCors(http::Response& res, const std::string& origin) const;

  IoWorkers& workers_;
  LiveState& state_;
  SplitterMetrics& metrics_;
  std::vector<Worker> per_worker_;
  // Candidate copies in flight or parked per color, across all workers.
  CandidateCounts candidate_[2];
  std::atomic<int64_t> live_inflight_[2] = {0, 0};
};

}  // namespace tandem::splitter
