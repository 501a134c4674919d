#include "pipeline/trace/tracker.h"

#include <cstdlib>
#include <stdexcept>

namespace tandem::trace {

void Tracker::Deliver(Role role, PayloadPtr payload, DeliveryDone done) {
  if (role == Role::kLive) return Send(Target::kLive, std::move(payload), std::move(done));
  // The candidate never double-counts in a production vendor (decisions.md).
  if (config_.candidate_mode == "skip") return done({"skipped", 0, 0, ""});
  Send(config_.candidate_mode == "validate" ? Target::kValidate : Target::kStaging,
       std::move(payload), std::move(done));
}

std::string Tracker::Secret(const std::string& env_name, const std::string& tracker) {
  const char* v = env_name.empty() ? nullptr : std::getenv(env_name.c_str());
  if (!v || !*v) {
    throw std::runtime_error("tracker '" + tracker + "': the environment variable '" + env_name +
                             "' holding its key is unset or empty");
  }
  return v;
}

}  // namespace tandem::trace
