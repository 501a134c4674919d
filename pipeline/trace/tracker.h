// One vendor behind one interface (after Envoy's interface/impl split): a tracker
// builds an event's vendor-bound payload (deterministic, without credentials, so
// both colors of a correct release build the same bytes) and delivers it under
// the live settings, or as its candidate_mode says for the candidate role.
// Threading: every tracker runs on trace's one delivery thread; Deliver and the
// `done` callbacks happen there.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/color.h"
#include "common/config.h"
#include "pipeline/trace/event_cleaner.h"

namespace boost::asio::ssl {
class context;
}

namespace tandem::trace {

class TraceMetrics;
class ErrorReporter;

enum class Role { kLive, kCandidate };

struct DeliveryResult {
  std::string outcome;  // delivered | failed | rejected | skipped (SPEC section 5)
  int status_code = 0;  // the vendor's last HTTP status; 0: none (transport error, a file)
  int attempts = 0;
  std::string error;  // the vendor's words, for logs and Sentry
};
using DeliveryDone = std::function<void(DeliveryResult)>;

// One event's payload for one vendor.
struct VendorPayload {
  std::string tandem_id;
  nlohmann::json body;
  std::string text;  // body.dump(): what is hashed, recorded and captured
};
using PayloadPtr = std::shared_ptr<const VendorPayload>;

// What every tracker is built with.
struct TrackerDeps {
  boost::asio::io_context& io;     // the delivery thread's
  boost::asio::ssl::context* tls;  // outgoing HTTPS, with pipeline.tls.ca_file trusted
  Color color;                     // for {color} in paths
  TraceMetrics& metrics;
  ErrorReporter* reporter;  // Sentry; may be null
};

class Tracker {
 public:
  Tracker(const TrackerConfig& config, TrackerDeps deps) : config_(config), deps_(deps) {}
  virtual ~Tracker() = default;
  const std::string& name() const { return config_.name; }
  const TrackerConfig& config() const { return config_; }

  // The vendor-bound payload of one event: built only from the event and the
  // config, never the clock, the color, the role or credentials.
  virtual nlohmann::json Payload(const CleanEvent& e) const = 0;

  // An environment variable a tracker needs; throws (startup) when unset.
  static std::string Secret(const std::string& env_name, const std::string& tracker);

  // Delivers one payload; `done` runs exactly once, on the delivery thread.
  void Deliver(Role role, PayloadPtr payload, DeliveryDone done);

 protected:
  // Where a payload goes: the live settings, the candidate's staging settings,
  // or the vendor's validation endpoint (ga4).
  enum class Target { kLive, kStaging, kValidate };
  virtual void Send(Target target, PayloadPtr payload, DeliveryDone done) = 0;
  const TrackerSettings& settings(Target t) const {
    return t == Target::kStaging ? config_.candidate : config_.live;
  }
  const TrackerConfig& config_;
  TrackerDeps deps_;
};
using TrackerPtr = std::unique_ptr<Tracker>;

// The trackers pipeline.trackers configures. Throws on a setting it cannot use.
std::vector<TrackerPtr> MakeTrackers(const PipelineConfig& config, TrackerDeps deps);

}  // namespace tandem::trace
