#include "pipeline/trace/trace_service.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ssl/context.hpp>
#include <thread>

#include "common/config.h"
#include "common/descriptors.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/service_runner.h"
#include "common/sync_client.h"
#include "datasets/dataset.h"
#include "pipeline/trace/event_processor.h"
#include "pipeline/trace/row_writer.h"
#include "pipeline/trace/sentry_reporter.h"
#include "pipeline/trace/trace_handler.h"
#include "pipeline/trace/trace_metrics.h"

namespace tandem::trace {
namespace {

// Everything the process runs, torn down in reverse order of declaration.
class TraceProcess {
 public:
  TraceProcess(const std::string& file, Color color)
      : file_(file),
        config_(LoadConfig(file)),
        color_(color),
        tm_(metrics_, config_.pipeline.TrackerNames()),
        tls_(http::MakeClientTls(config_.pipeline.tls_ca_file)),
        work_(delivery_io_.get_executor()),
        sentry_(MakeSentryReporter(config_.pipeline.sentry_dsn_env, color, delivery_io_, tls_.get(),
                                   config_.pipeline.scrub, tm_)),
        trackers_(
            MakeTrackers(config_.pipeline, {delivery_io_, tls_.get(), color, tm_, sentry_.get()})),
        dataset_(OpenDataset(config_, color)),
        writer_(*dataset_, tm_),
        processor_(config_.pipeline, delivery_io_, trackers_, writer_, tm_),
        workers_(2),
        handler_(workers_, processor_, metrics_),
        server_(workers_, config_.color(color).trace_listen, Options(config_), handler_),
        runner_(workers_.context(0), Hooks()) {}

  int Run() {
    writer_.Start();
    delivery_thread_ = std::thread([this] { delivery_io_.run(); });
    server_.Start();
    workers_.Start();
    log::Info("listening", {{"port", server_.port()},
                            {"color", ColorName(color_)},
                            {"trackers", config_.pipeline.TrackerNames()},
                            {"sentry", sentry_ != nullptr}});
    runner_.WaitForStop();
    workers_.Stop();
    workers_.Join();
    work_.reset();
    delivery_io_.stop();
    delivery_thread_.join();
    writer_.Stop();
    log::Info("stopped", {});
    return 0;
  }

 private:
  static http::ServerOptions Options(const Config& c) {
    http::ServerOptions o;
    // The largest event alone in a batch, with its headers and the framing.
    o.body_limit = kMaxBodyBytesLimit + (1 << 20);
    uint64_t limit = RaiseDescriptorLimit();
    // Its clients are the forwarder's pool; vendors and the dataset need the rest.
    o.max_connections = static_cast<size_t>(limit > 512 ? limit - 256 : limit / 2);
    return o;
  }

  ServiceHooks Hooks() {
    ServiceHooks h;
    h.reload = [this] { Reload(); };
    h.begin_drain = [this] { server_.BeginDrain(); };
    h.idle = [this] { return server_.open_connections() == 0; };
    return h;
  }

  // The allowlist and the scrub rules apply to the next event; trackers, the
  // dataset and the listen address need a restart (they hold connections and files).
  void Reload() {
    Config next;
    try {
      next = LoadConfig(file_);
    } catch (const std::exception& e) {
      log::Error("reload failed; keeping the running config", {{"error", e.what()}});
      return;
    }
    processor_.Reload(next.pipeline);
    log::Info("config reloaded",
              {{"file", file_},
               {"note",
                "allowlist and scrub rules applied; trackers, sentry, dataset and "
                "addresses take effect at the next restart"}});
  }

  std::string file_;
  Config config_;
  Color color_;
  Metrics metrics_;
  TraceMetrics tm_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  boost::asio::io_context delivery_io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<ErrorReporter> sentry_;
  std::vector<TrackerPtr> trackers_;
  std::unique_ptr<Dataset> dataset_;
  RowWriter writer_;
  EventProcessor processor_;
  IoWorkers workers_;
  TraceHandler handler_;
  http::Server server_;
  ServiceRunner runner_;
  std::thread delivery_thread_;
};

}  // namespace

int RunTrace(const std::string& config_file, Color color) {
  log::Init(std::string("trace-") + ColorName(color));
  TraceProcess p(config_file, color);
  return p.Run();
}

}  // namespace tandem::trace
