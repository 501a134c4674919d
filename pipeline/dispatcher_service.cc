#include "pipeline/dispatcher_service.h"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>

#include "common/drain.h"
#include "common/http_server.h"
#include "common/log.h"
#include "datasets/dataset.h"
#include "pipeline/dispatcher_handler.h"
#include "pipeline/forwarder.h"
#include "pipeline/loader.h"

namespace tandem::pipeline {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

class DispatcherProcess {
 public:
  DispatcherProcess(const std::string& file, Color color)
      : config_(LoadConfig(file)),
        color_(color),
        cc_(config_.color(color)),
        dm_(metrics_),
        spool_(SpoolOptions{ForColor(cc_.spool_dir, color), 64ull << 20, cc_.spool_max_bytes,
                            [this](size_t n, double s) {
                              dm_.commit_seconds.Observe(s);
                              dm_.commit_records.Observe(static_cast<double>(n));
                            }}),
        dataset_(OpenDataset(config_, color)),
        // Retention runs on the loader's thread, which may block on disk: deleting a
        // segment syncs the folder, which must not stall the threads that ack.
        loader_(
            spool_, *dataset_, Checkpoint(ForColor(cc_.spool_dir, color) + "/loader.checkpoint"),
            dm_,
            [this](uint64_t loaded) { spool_.Release(std::min(loaded, forwarder_.position())); }),
        forwarder_(spool_, cc_.trace_listen,
                   Checkpoint(ForColor(cc_.spool_dir, color) + "/forwarder.checkpoint"), dm_),
        workers_(2),
        handler_(workers_, spool_, metrics_, dm_, [this] { BeforeScrape(); }),
        server_(workers_, cc_.dispatcher_listen, Options(config_), handler_),
        signals_(workers_.context(0), SIGTERM, SIGINT),
        drain_timer_(workers_.context(0)) {
    if (Status st = dataset_->Bootstrap(); !st.ok()) {
      // Not fatal: the loader retries, and the spool keeps every event meanwhile.
      log::Warn("dataset not ready; events are spooled until it is", {{"error", st.message()}});
    }
  }

  int Run() {
    loader_.Start();
    forwarder_.Start();
    server_.Start();
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      log::Info("draining", {{"signal", sig}});
      server_.BeginDrain();
      WaitUntilIdle(
          drain_timer_, [this] { return server_.open_connections() == 0; },
          Clock::now() + std::chrono::seconds(10), [this](bool) { stopped_.set_value(); });
    });
    workers_.Start();
    log::Info("listening", {{"port", server_.port()},
                            {"color", ColorName(color_)},
                            {"spool_bytes", spool_.bytes()},
                            {"loader_position", loader_.position()},
                            {"forwarder_position", forwarder_.position()}});
    stopped_.get_future().wait();
    workers_.Stop();
    workers_.Join();
    spool_.Stop();
    loader_.Stop();
    forwarder_.Stop();
    log::Info("stopped", {{"loader_position", loader_.position()},
                          {"forwarder_position", forwarder_.position()}});
    return 0;
  }

 private:
  static http::ServerOptions Options(const Config& c) {
    http::ServerOptions o;
    o.body_limit = c.splitter.max_body_bytes;
    return o;
  }

  void BeforeScrape() {
    uint64_t end = spool_.durable_end();
    dm_.spool_bytes.Set(static_cast<double>(spool_.bytes()));
    dm_.spool_segments.Set(static_cast<double>(spool_.segments()));
    dm_.loader_lag_bytes.Set(static_cast<double>(end - std::min(end, loader_.position())));
    dm_.forwarder_lag_bytes.Set(static_cast<double>(end - std::min(end, forwarder_.position())));
  }

  Config config_;
  Color color_;
  const ColorConfig& cc_;
  Metrics metrics_;
  DispatcherMetrics dm_;
  Spool spool_;
  std::unique_ptr<Dataset> dataset_;
  Loader loader_;
  Forwarder forwarder_;
  IoWorkers workers_;
  DispatcherHandler handler_;
  http::Server server_;
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  std::promise<void> stopped_;
};

}  // namespace

int RunDispatcher(const std::string& config_file, Color color) {
  log::Init(std::string("dispatcher-") + ColorName(color));
  DispatcherProcess p(config_file, color);
  return p.Run();
}

}  // namespace tandem::pipeline
