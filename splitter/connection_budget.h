// How many connections the splitter may hold, from the descriptor limit: client
// connections on each listener, the live connections they cause (one each at
// most) and the candidate's capped pool must all fit, with descriptors left for
// the admin API, state writes and probes. Caps above what the limit allows are
// lowered (and logged), so a flood can never starve /healthz or the upstreams.
#pragma once

#include <cstdint>

#include "common/config.h"

namespace tandem::splitter {

struct ConnectionBudget {
  static constexpr uint64_t kReserved = 64;  // listeners, files, probes, compare, logs

  uint32_t ingest = 0;     // client connections on splitter.listen
  uint32_t admin = 0;      // client connections on splitter.admin_listen
  uint32_t candidate = 0;  // connections to the candidate's dispatcher, all threads
  bool lowered = false;    // the limit forced caps below the configured ones

  static ConnectionBudget For(const SplitterConfig& c, uint64_t descriptor_limit);
};

}  // namespace tandem::splitter
