// The wait a partial batch gives more events before it is sent. Arm() starts it
// unless it is already running; Disarm() stops it when the batch goes out early.
// A cancelled wait never fires, even if its handler is already queued: each arming
// has its own generation, so a stale handler cannot fire or disarm a newer one.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>

namespace tandem::trace {

class LingerTimer {
 public:
  explicit LingerTimer(boost::asio::io_context& io) : timer_(io) {}

  void Arm(std::chrono::milliseconds wait, std::function<void()> fire) {
    if (armed_) return;
    armed_ = true;
    uint64_t generation = ++generation_;
    timer_.expires_after(wait);
    timer_.async_wait([this, generation, fire = std::move(fire)](boost::system::error_code) {
      if (generation != generation_ || !armed_) return;
      armed_ = false;
      fire();
    });
  }

  void Disarm() {
    if (!armed_) return;
    armed_ = false;
    ++generation_;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  bool armed_ = false;
  uint64_t generation_ = 0;
};

}  // namespace tandem::trace
