// Graceful shutdown's wait: checks `idle` every few milliseconds on `timer`'s
// thread until it holds or `deadline` passes, then calls `done(idle)` once.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace tandem {

void WaitUntilIdle(boost::asio::steady_timer& timer, std::function<bool()> idle,
                   std::chrono::steady_clock::time_point deadline, std::function<void(bool)> done);

}  // namespace tandem
