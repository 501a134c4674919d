#include "splitter/splitter_service.h"

#include "common/clock.h"
#include "common/descriptors.h"
#include "common/http_server.h"
#include "common/io_workers.h"
#include "common/log.h"
#include "common/service_runner.h"
#include "splitter/admin_handler.h"
#include "splitter/connection_budget.h"
#include "splitter/ingest_handler.h"
#include "splitter/state_store.h"

namespace tandem::splitter {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// The config with connection caps the descriptor limit can hold (logged when lowered).
Config WithConnectionBudget(Config c) {
  uint64_t limit = RaiseDescriptorLimit();
  ConnectionBudget b = ConnectionBudget::For(c.splitter, limit);
  if (b.lowered) {
    log::Warn("the descriptor limit lowers the connection caps; raise LimitNOFILE for more",
              {{"descriptor_limit", limit},
               {"max_connections", b.ingest},
               {"admin_max_connections", b.admin},
               {"candidate_max_connections", b.candidate}});
  }
  c.splitter.max_connections = b.ingest;
  c.splitter.admin_max_connections = b.admin;
  c.splitter.candidate_max_connections = b.candidate;
  return c;
}

http::ServerOptions ListenerOptions(const SplitterConfig& s, SplitterMetrics& m, Listener l) {
  http::ServerOptions o;
  o.header_timeout = std::chrono::milliseconds(s.header_timeout_ms);
  o.idle_timeout = std::chrono::milliseconds(s.idle_timeout_ms);
  o.first_byte_timeout = std::chrono::milliseconds(s.first_byte_timeout_ms);
  o.max_connections = l == Listener::kIngest ? s.max_connections : s.admin_max_connections;
  o.on_connection_event = [&m, l](http::ConnectionEvent e) { m.ConnectionClosed(l, e); };
  if (l == Listener::kAdmin) return o;
  o.body_limit = s.max_body_bytes;
  o.on_protocol_error = [&m](http::ProtocolError e) {
    switch (e) {
      case http::ProtocolError::kBodyTooLarge:
        m.Rejected(Rejection::kBodyTooLarge);
        m.Response(413);
        break;
      case http::ProtocolError::kMalformed:
        m.Rejected(Rejection::kMalformed);
        m.Response(400);
        break;
      case http::ProtocolError::kTimeout:
        m.Rejected(Rejection::kHeaderTimeout);
        break;
    }
  };
  return o;
}

// Everything the process runs, torn down in reverse order of declaration.
class SplitterProcess {
 public:
  explicit SplitterProcess(const std::string& file)
      : file_(file),
        config_(WithConnectionBudget(LoadConfig(file))),
        metrics_(),
        splitter_metrics_(metrics_),
        state_(config_.splitter.state_file, config_.splitter.initial_live),
        store_(MakeStore()),
        ingest_workers_(config_.splitter.threads),
        admin_workers_(1),
        ingest_(ingest_workers_, config_, state_, splitter_metrics_),
        admin_(admin_workers_.context(0), config_, state_, *store_, metrics_, splitter_metrics_,
               [this] { BeforeScrape(); }),
        ingest_server_(ingest_workers_, config_.splitter.listen,
                       ListenerOptions(config_.splitter, splitter_metrics_, Listener::kIngest),
                       ingest_),
        admin_server_(admin_workers_, config_.splitter.admin_listen,
                      ListenerOptions(config_.splitter, splitter_metrics_, Listener::kAdmin),
                      admin_),
        runner_(admin_workers_.context(0), Hooks()) {
    splitter_metrics_.SetLive(state_.live());
  }

  int Run() {
    ingest_server_.Start();
    admin_server_.Start();
    ingest_workers_.Start();
    admin_workers_.Start();
    log::Info("listening", {{"ingest_port", ingest_server_.port()},
                            {"admin_port", admin_server_.port()},
                            {"live", ColorName(state_.live())},
                            {"threads", ingest_workers_.size()}});
    runner_.WaitForStop();
    if (ingest_.parked(Color::kBlue) + ingest_.parked(Color::kGreen) > 0) {
      // The drain timed out with the candidate still not taking them.
      log::Warn("candidate copies still parked at exit are not sent",
                {{"blue", ingest_.parked(Color::kBlue)}, {"green", ingest_.parked(Color::kGreen)}});
    }
    admin_server_.BeginDrain();
    store_->Stop();  // a swap in flight answers while the admin thread still runs
    admin_workers_.Stop();
    ingest_workers_.Stop();
    admin_workers_.Join();
    ingest_workers_.Join();
    log::Info("stopped");
    return 0;
  }

 private:
  std::unique_ptr<StateStore> MakeStore() {
    if (config_.splitter.etcd.endpoints.empty()) return MakeFileStateStore(state_);
    return MakeEtcdStateStore(config_.splitter.etcd, state_,
                              [this](const LiveSnapshot& s) { splitter_metrics_.SetLive(s.live); });
  }

  void BeforeScrape() {
    StoreHealth h = store_->Health();
    double down_for =
        h.reachable ? 0 : static_cast<double>(UnixMillis() - h.unreachable_since_ms) / 1000.0;
    splitter_metrics_.SetStore(h.reachable, down_for, static_cast<double>(h.revision));
    splitter_metrics_.SetOpenConnections(Listener::kIngest, ingest_server_.open_connections());
    splitter_metrics_.SetOpenConnections(Listener::kAdmin, admin_server_.open_connections());
    for (Color c : {Color::kBlue, Color::kGreen}) {
      splitter_metrics_.SetInflight(c, Role::kLive,
                                    static_cast<double>(ingest_.inflight(c, false)));
      splitter_metrics_.SetInflight(c, Role::kCandidate,
                                    static_cast<double>(ingest_.inflight(c, true)));
      splitter_metrics_.SetParked(c, static_cast<double>(ingest_.parked(c)));
    }
  }

  ServiceHooks Hooks() {
    ServiceHooks h;
    h.reload = [this] { Reload(); };
    h.begin_drain = [this] {
      log::Info("draining ingest", {{"inflight", ingest_.inflight()}});
      ingest_server_.BeginDrain();
    };
    // Every accepted request gets its answer, and every candidate copy its
    // outcome, before the process exits (bounded by drain_timeout_ms).
    h.idle = [this] { return ingest_server_.open_connections() == 0 && ingest_.inflight() == 0; };
    h.drain_timeout = std::chrono::milliseconds(config_.splitter.drain_timeout_ms);
    return h;
  }

  // Everything is loaded and validated first; only then is anything applied, so a
  // reload that fails leaves the running settings whole.
  void Reload() {
    Config next;
    IngestSettings ingest;
    AdminSettings admin;
    try {
      next = LoadConfig(file_);
      ingest = IngestSettings::From(next.splitter);
      ingest.max_body_bytes = config_.splitter.max_body_bytes;  // the listener's limit stays
      admin = AdminSettings::From(next);
    } catch (const std::exception& e) {
      log::Error("reload failed; keeping the running config", {{"error", e.what()}});
      return;
    }
    if (!(next.splitter.listen == config_.splitter.listen) ||
        !(next.splitter.admin_listen == config_.splitter.admin_listen) ||
        !(next.blue.dispatchers == config_.blue.dispatchers) ||
        !(next.green.dispatchers == config_.green.dispatchers) ||
        !(next.splitter.etcd.endpoints == config_.splitter.etcd.endpoints) ||
        next.splitter.etcd.key != config_.splitter.etcd.key ||
        next.splitter.max_body_bytes != config_.splitter.max_body_bytes) {
      log::Warn(
          "reload: listen addresses, dispatcher addresses, splitter.etcd and max_body_bytes take "
          "effect at the next restart");
    }
    ingest_.Reload(ingest);
    admin_.Apply(std::move(admin));
    log::Info("config reloaded",
              {{"file", file_}, {"mirror_fraction", next.splitter.mirror_fraction}});
  }

  std::string file_;
  Config config_;
  Metrics metrics_;
  SplitterMetrics splitter_metrics_;
  LiveState state_;
  std::unique_ptr<StateStore> store_;
  IoWorkers ingest_workers_;
  IoWorkers admin_workers_;
  IngestHandler ingest_;
  AdminHandler admin_;
  http::Server ingest_server_;
  http::Server admin_server_;
  ServiceRunner runner_;
};

}  // namespace

int RunSplitter(const std::string& config_file) {
  log::Init("splitter");
  SplitterProcess p(config_file);
  return p.Run();
}

}  // namespace tandem::splitter
