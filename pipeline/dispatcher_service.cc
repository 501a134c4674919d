#include "pipeline/dispatcher_service.h"

#include "common/descriptors.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/service_runner.h"
#include "datasets/dataset.h"
#include "pipeline/dead_letter.h"
#include "pipeline/dispatcher_handler.h"
#include "pipeline/forwarder.h"
#include "pipeline/loader.h"

namespace tandem::pipeline {
namespace {

std::string SpoolDir(const Config& c, Color color) {
  return ForColor(c.color(color).spool_dir, color);
}

// Everything the process runs, torn down in reverse order of declaration.
class DispatcherProcess {
 public:
  DispatcherProcess(const std::string& file, Color color)
      : file_(file),
        config_(LoadConfig(file)),
        color_(color),
        cc_(config_.color(color)),
        dm_(metrics_),
        loader_checkpoint_(SpoolDir(config_, color) + "/loader.checkpoint"),
        forwarder_checkpoint_(SpoolDir(config_, color) + "/forwarder.checkpoint"),
        spool_(SpoolOptions{
            .dir = SpoolDir(config_, color),
            .max_bytes = cc_.spool_max_bytes,
            .resume_at = std::max(loader_checkpoint_.Load(), forwarder_checkpoint_.Load()),
            .on_commit =
                [this](size_t n, double s) {
                  dm_.commit_seconds.Observe(s);
                  dm_.commit_records.Observe(static_cast<double>(n));
                }}),
        dataset_(OpenDataset(config_, color)),
        dead_letter_(SpoolDir(config_, color) + "/dead-letter.jsonl"),
        // Retention runs on the consumers' threads, which may block on disk:
        // deleting a segment syncs the folder, which must not stall the threads that ack.
        loader_(spool_, *dataset_, loader_checkpoint_, dead_letter_, dm_, [this] { Retain(); }),
        forwarder_(spool_, cc_.trace_listen, forwarder_checkpoint_, *dataset_, dead_letter_, dm_,
                   [this] { Retain(); }),
        workers_(2),
        handler_(workers_, spool_, metrics_, dm_, [this] { BeforeScrape(); }),
        server_(workers_, cc_.dispatcher_listen, Options(config_), handler_),
        runner_(workers_.context(0), Hooks()) {
    ReportRecovery();
    Retain();  // space the consumers freed before a restart counts at once
  }

  int Run() {
    loader_.Start();
    forwarder_.Start();
    server_.Start();
    workers_.Start();
    log::Info("listening", {{"port", server_.port()},
                            {"color", ColorName(color_)},
                            {"spool_bytes", spool_.bytes()},
                            {"loader_position", loader_.position()},
                            {"forwarder_position", forwarder_.position()}});
    runner_.WaitForStop();
    workers_.Stop();
    workers_.Join();
    loader_.Stop();
    forwarder_.Stop();
    spool_.Stop();
    log::Info("stopped", {{"loader_position", loader_.position()},
                          {"forwarder_position", forwarder_.position()}});
    return 0;
  }

 private:
  static http::ServerOptions Options(const Config& c) {
    http::ServerOptions o;
    o.body_limit = c.splitter.max_body_bytes;
    // Its clients are splitters with keep-alive pools; the cap only stops a flood
    // from taking the descriptors the spool, the dataset and trace need.
    uint64_t limit = RaiseDescriptorLimit();
    o.max_connections = static_cast<size_t>(limit > 1024 ? limit - 512 : limit / 2);
    return o;
  }

  ServiceHooks Hooks() {
    ServiceHooks h;
    h.reload = [this] { Reload(); };
    h.begin_drain = [this] { server_.BeginDrain(); };
    h.idle = [this] { return server_.open_connections() == 0; };
    return h;
  }

  void Reload() {
    Config next;
    try {
      next = LoadConfig(file_);
    } catch (const std::exception& e) {
      log::Error("reload failed; keeping the running config", {{"error", e.what()}});
      return;
    }
    const ColorConfig& nc = next.color(color_);
    spool_.set_max_bytes(nc.spool_max_bytes);
    if (!(nc.dispatcher_listen == cc_.dispatcher_listen) ||
        !(nc.trace_listen == cc_.trace_listen) || nc.spool_dir != cc_.spool_dir ||
        next.splitter.max_body_bytes != config_.splitter.max_body_bytes) {
      log::Warn(
          "reload: addresses, spool_dir, dataset and max_body_bytes take effect at the next "
          "restart");
    }
    log::Info("config reloaded", {{"file", file_}, {"spool_max_bytes", nc.spool_max_bytes}});
  }

  // Both consumers have passed min(loader, forwarder): that much is free.
  void Retain() { spool_.Release(std::min(loader_.position(), forwarder_.position())); }

  void ReportRecovery() {
    const SpoolRecovery& r = spool_.recovery();
    if (r.torn_bytes > 0) {
      log::Info("spool: cut a torn tail (a write a crash interrupted; never acknowledged)",
                {{"bytes", r.torn_bytes}});
    }
    if (r.corrupt_bytes > 0) {
      dm_.damage_corrupt.Increment();
      log::Error(
          "spool damage: corrupt bytes inside the last segment; the events after them are kept",
          {{"bytes", r.corrupt_bytes}, {"spool_dir", SpoolDir(config_, color_)}});
    }
    if (r.missing_bytes > 0) {
      dm_.damage_behind.Increment();
      log::Error(
          "spool damage: the spool ends before its consumers' checkpoints (segments lost); "
          "new events are written after the checkpoints",
          {{"missing_bytes", r.missing_bytes},
           {"resumed_at", spool_.durable_end()},
           {"spool_dir", SpoolDir(config_, color_)}});
    }
  }

  void BeforeScrape() {
    uint64_t end = spool_.durable_end();
    dm_.spool_bytes.Set(static_cast<double>(spool_.bytes()));
    dm_.spool_segments.Set(static_cast<double>(spool_.segments()));
    dm_.loader_lag_bytes.Set(static_cast<double>(end - std::min(end, loader_.position())));
    dm_.forwarder_lag_bytes.Set(static_cast<double>(end - std::min(end, forwarder_.position())));
  }

  std::string file_;
  Config config_;
  Color color_;
  const ColorConfig& cc_;
  Metrics metrics_;
  DispatcherMetrics dm_;
  Checkpoint loader_checkpoint_;
  Checkpoint forwarder_checkpoint_;
  Spool spool_;
  std::unique_ptr<Dataset> dataset_;
  DeadLetter dead_letter_;
  Loader loader_;
  Forwarder forwarder_;
  IoWorkers workers_;
  DispatcherHandler handler_;
  http::Server server_;
  ServiceRunner runner_;
};

}  // namespace

int RunDispatcher(const std::string& config_file, Color color) {
  log::Init(std::string("dispatcher-") + ColorName(color));
  DispatcherProcess p(config_file, color);
  return p.Run();
}

}  // namespace tandem::pipeline
