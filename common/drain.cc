#include "common/drain.h"

namespace tandem {

void WaitUntilIdle(boost::asio::steady_timer& timer, std::function<bool()> idle,
                   std::chrono::steady_clock::time_point deadline, std::function<void(bool)> done) {
  bool now_idle = idle();
  if (now_idle || std::chrono::steady_clock::now() >= deadline) return done(now_idle);
  timer.expires_after(std::chrono::milliseconds(5));
  timer.async_wait([&timer, idle = std::move(idle), deadline,
                    done = std::move(done)](boost::system::error_code ec) mutable {
    if (!ec) WaitUntilIdle(timer, std::move(idle), deadline, std::move(done));
  });
}

}  // namespace tandem
