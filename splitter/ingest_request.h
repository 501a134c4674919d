// What the splitter makes of a client's POST /v1/events, apart from any I/O: the
// checks of SPEC section 10 (media type, encoding, size, emptiness) and the
// stamped request both colors get. A pure function, so it can be fuzzed.
#pragma once

#include <optional>
#include <string>

#include "common/http_types.h"
#include "common/uuid7.h"
#include "splitter/splitter_metrics.h"

namespace tandem::splitter {

struct PreparedEvent {
  // The request for the live dispatcher (X-Tandem-Role is set by the caller),
  // when the event is accepted.
  std::optional<http::Request> upstream;
  // Otherwise the answer for the client, and why.
  http::Response refusal;
  Rejection reason = Rejection::kCount;
};

// Checks `req` and builds the stamped copy: client X-Tandem-* and hop-by-hop
// headers removed, X-Forwarded-For extended with `peer_ip`, the id and receive
// time from `id`. A gzip body is decoded (its decoded size counts against
// `max_body_bytes`: 413 beyond it) and travels on decoded; any other
// Content-Encoding is 415.
PreparedEvent PrepareEvent(http::Request&& req, const std::string& peer_ip, uint64_t max_body_bytes,
                           const Uuid7& id);

}  // namespace tandem::splitter
