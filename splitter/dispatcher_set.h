// A color's dispatchers as one worker thread sees them (`colors.C.dispatchers`):
// a keep-alive pool per address, picked round robin. An address whose
// connection fails is skipped for a backoff that grows while it keeps failing,
// then tried again with the next request; when every address is down the one
// due back first is tried, so traffic never stops on the splitter's say-so.
// One per worker thread and color: no locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/color.h"
#include "common/host_port.h"
#include "common/http_client.h"

namespace boost::asio {
class io_context;
}

namespace tandem::splitter {

class DispatcherSet {
 public:
  using Clock = std::chrono::steady_clock;
  DispatcherSet(boost::asio::io_context& io, const std::vector<HostPort>& addresses,
                http::PoolLimits limits = {});

  size_t size() const { return members_.size(); }
  // The next address to use: round robin over those not skipped (down, or with
  // a full queue); addresses in `tried` (bit i: a request already failed on
  // address i) are avoided while another is usable.
  size_t Pick(Clock::time_point now, uint64_t tried = 0);
  http::ClientPool& pool(size_t i) { return *members_[i].pool; }
  // The connection to `i` failed (refused, reset, dropped): skip it for a while.
  void Failed(size_t i, Clock::time_point now);
  // `i` answered: use it again at once.
  void Answered(size_t i) {
    members_[i].failures = 0;
    members_[i].down_until = {};
  }
  // Requests waiting for a connection in the least loaded pool.
  size_t least_waiting() const;
  // Every address's connections and waiting line are full: a request now would
  // be refused with kPoolFull (pools capped by max_waiting only).
  bool saturated() const { return max_waiting_ > 0 && least_waiting() >= max_waiting_; }

 private:
  struct Member {
    std::shared_ptr<http::ClientPool> pool;
    Clock::time_point down_until{};
    int failures = 0;
  };
  std::vector<Member> members_;
  size_t max_waiting_ = 0;
  size_t next_ = 0;
};

}  // namespace tandem::splitter
