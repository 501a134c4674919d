// Which color is live, persisted so that it survives restarts. Readers take one
// atomic load per request, so no request ever sees half of a swap.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <system_error>

#include "common/config.h"

namespace tandem::splitter {

struct LiveSnapshot {
  Color live;
  int64_t changed_at_ms;
};

// The state JSON, as in `state_file` and the fleet's etcd key:
// {"live":"green","changed_at_ms":...} (other keys, such as etcd's swap_id, ignored).
nlohmann::json StateJson(const LiveSnapshot& s);
// nullopt when `text` is not a state (no "live" of blue or green).
std::optional<LiveSnapshot> ParseStateJson(const std::string& text);

class LiveState {
 public:
  // Reads `state_file`, or starts from `initial_live` when it does not exist.
  // Throws on a file that exists but cannot be understood (startup code).
  LiveState(std::string state_file, Color initial_live);

  Color live() const { return static_cast<Color>(live_.load(std::memory_order_acquire)); }
  LiveSnapshot Snapshot() const;

  // Makes `new_live` live: persisted first (write, fsync, rename), then visible.
  std::error_code SetLive(Color new_live, LiveSnapshot& result);
  // Takes a state decided elsewhere (the fleet's store): cached in the file, then
  // visible. Visible even when the cache cannot be written (the fleet decided).
  std::error_code Adopt(const LiveSnapshot& s);
  // Whether the state came from `state_file` at start (not from initial_live).
  bool from_file() const { return from_file_; }

 private:
  void Publish(const LiveSnapshot& s);  // under write_mu_, after the file is written

  std::string file_;
  std::atomic<int> live_;
  std::atomic<int64_t> changed_at_ms_;
  mutable std::mutex write_mu_;
  bool from_file_ = false;
};

}  // namespace tandem::splitter
