// Where the live color is decided (SPEC section 4). A lone splitter keeps it in
// its `state_file`; a fleet keeps it in etcd, with `state_file` as the local
// cache. Routing never asks the store: it reads LiveState, which the store keeps
// current, so a slow or absent store never touches the request path.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/config.h"
#include "splitter/live_state.h"

namespace tandem::splitter {

struct SwapResult {
  enum class Kind { kSwapped, kConflict, kUnavailable, kFailed };
  Kind kind = Kind::kFailed;
  LiveSnapshot state;  // after the call: the new state, or the one that stands
  std::string detail;  // for people, when not swapped
};

// What /admin/v1/state and /metrics say about the store.
struct StoreHealth {
  std::string kind;  // "file" or "etcd"
  bool reachable = true;
  int64_t unreachable_since_ms = 0;  // 0 while reachable
  int64_t revision = 0;              // etcd: the revision of the state applied
  std::string last_error;
};

class StateStore {
 public:
  using SwapDone = std::function<void(SwapResult)>;
  virtual ~StateStore() = default;
  // Makes the other color live if `expected_live` is live, in one atomic step
  // for the whole fleet. `done` may run on another thread.
  virtual void Swap(Color expected_live, SwapDone done) = 0;
  virtual StoreHealth Health() const = 0;
  // Before the process tears down what `done` callbacks use: no call after it.
  virtual void Stop() {}
};

// Calls `on_change(state)` whenever the fleet changes the live color (the
// metrics follow it); runs on the store's thread.
using OnLiveChange = std::function<void(const LiveSnapshot&)>;

// state_file only (no splitter.etcd).
std::unique_ptr<StateStore> MakeFileStateStore(LiveState& state);
// splitter.etcd: reads or creates the key at start (throws when etcd cannot be
// reached and there is no state_file to fall back on), then follows it.
std::unique_ptr<StateStore> MakeEtcdStateStore(const EtcdConfig& config, LiveState& state,
                                               OnLiveChange on_change);

}  // namespace tandem::splitter
