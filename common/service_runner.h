// The one way every long-running Tandem service handles its signals: SIGHUP
// reloads (never exits), SIGTERM or SIGINT drains (stop accepting, let in-flight
// work finish, bounded) and then Run() returns. Signals are handled on one of the
// service's own io_contexts, so hooks run on that thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <future>

namespace tandem {

struct ServiceHooks {
  std::function<void()> reload;       // SIGHUP; empty: nothing to reload (logged)
  std::function<void()> begin_drain;  // stop accepting new work
  std::function<bool()> idle;         // true once in-flight work has finished
  std::chrono::milliseconds drain_timeout{10000};
};

class ServiceRunner {
 public:
  // Installs the signal handlers at once: construct it before the service's
  // threads start, so no signal finds the default action.
  ServiceRunner(boost::asio::io_context& io, ServiceHooks hooks);
  // Blocks until a SIGTERM/SIGINT drain has finished (or timed out); returns
  // whether everything in flight finished.
  bool WaitForStop();

 private:
  void Listen();
  void Drain(int signal);

  ServiceHooks hooks_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
  std::promise<bool> stopped_;
  bool draining_ = false;
};

}  // namespace tandem
