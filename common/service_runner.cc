#include "common/service_runner.h"

#include <csignal>

#include "common/drain.h"
#include "common/log.h"

namespace tandem {

ServiceRunner::ServiceRunner(boost::asio::io_context& io, ServiceHooks hooks)
    : hooks_(std::move(hooks)), signals_(io, SIGTERM, SIGINT, SIGHUP), timer_(io) {
  // A write past RLIMIT_FSIZE must fail with EFBIG (an error the service handles),
  // not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  Listen();
}

void ServiceRunner::Listen() {
  signals_.async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      if (hooks_.reload) {
        hooks_.reload();
      } else {
        log::Info("SIGHUP: nothing to reload");
      }
    } else if (!draining_) {
      Drain(sig);
    }
    Listen();  // later signals are handled too (a second SIGTERM while draining is ignored)
  });
}

void ServiceRunner::Drain(int sig) {
  draining_ = true;
  log::Info("draining", {{"signal", sig}});
  if (hooks_.begin_drain) hooks_.begin_drain();
  WaitUntilIdle(
      timer_, hooks_.idle ? hooks_.idle : [] { return true; },
      std::chrono::steady_clock::now() + hooks_.drain_timeout,
      [this](bool idle) {
        if (!idle) log::Warn("drain timed out; stopping with work in flight");
        stopped_.set_value(idle);
      });
}

bool ServiceRunner::WaitForStop() { return stopped_.get_future().get(); }

}  // namespace tandem
