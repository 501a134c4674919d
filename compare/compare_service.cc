#include "compare/compare_service.h"

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/clock.h"
#include "common/config.h"
#include "common/http_server.h"
#include "common/io_workers.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/service_runner.h"
#include "compare/comparator.h"
#include "compare/compare_handler.h"
#include "compare/compare_metrics.h"
#include "compare/live_state_reader.h"
#include "compare/published_report.h"
#include "compare/report_json.h"

namespace tandem::compare {
namespace {

constexpr auto kTick = std::chrono::seconds(1);

DatasetOpener Opener(const Config& c) {
  return [c](Color color) { return OpenDataset(c, color); };
}

std::set<std::string> AllowlistedEvents(const Config& c) {
  std::set<std::string> out;
  for (const auto& [name, props] : c.pipeline.allowlist_events) out.insert(name);
  return out;
}

// Everything the process runs, torn down in reverse order of declaration.
class CompareProcess {
 public:
  explicit CompareProcess(const std::string& file)
      : file_(file),
        config_(LoadConfig(file)),
        cm_(metrics_, AllowlistedEvents(config_), config_.pipeline.TrackerNames()),
        comparator_(std::make_unique<Comparator>(config_, Opener(config_))),
        workers_(1),
        handler_(board_, metrics_),
        server_(workers_, config_.compare.listen, http::ServerOptions{}, handler_),
        runner_(workers_.context(0), Hooks()) {
    cm_.SetSettings(config_.compare);
  }

  int Run() {
    judge_ = std::thread([this] { JudgeLoop(); });
    server_.Start();
    workers_.Start();
    log::Info("listening", {{"port", server_.port()},
                            {"window_seconds", config_.compare.window_seconds},
                            {"settle_seconds", config_.compare.settle_seconds},
                            {"max_drift_ratio", config_.compare.max_drift_ratio}});
    runner_.WaitForStop();
    StopJudge();
    workers_.Stop();
    workers_.Join();
    log::Info("stopped", {});
    return 0;
  }

 private:
  ServiceHooks Hooks() {
    ServiceHooks h;
    h.reload = [this] { Reload(); };
    h.begin_drain = [this] {
      server_.BeginDrain();
      StopJudge();
    };
    h.idle = [this] { return server_.open_connections() == 0; };
    return h;
  }

  // Compare's settings apply from the next run, with the windows judged again
  // under them; the listen address needs a restart.
  void Reload() {
    try {
      Config next = LoadConfig(file_);
      std::lock_guard<std::mutex> l(mu_);
      next_config_ = std::move(next);
      cv_.notify_all();
      log::Info("config reloaded", {{"file", file_}, {"note", "listen takes effect at restart"}});
    } catch (const std::exception& e) {
      log::Error("reload failed; keeping the running config", {{"error", e.what()}});
    }
  }

  void StopJudge() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (judge_.joinable() && judge_.get_id() != std::this_thread::get_id()) judge_.join();
  }

  void JudgeLoop() {
    std::string last_verdict, last_error;
    for (;;) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stopping_) return;
        if (next_config_) {
          config_ = std::move(*next_config_);
          next_config_.reset();
          comparator_ = std::make_unique<Comparator>(config_, Opener(config_));
          cm_.SetSettings(config_.compare);
        }
      }
      auto t0 = std::chrono::steady_clock::now();
      std::string error;
      std::optional<LiveState> state = ReadLiveState(config_, error);
      RunStats stats;
      Report report = comparator_->Run(UnixMillis(), state, &stats, error);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      auto published = std::make_shared<PublishedReport>();
      published->json = ReportToJson(report).dump();
      published->report = std::move(report);
      cm_.Record(published->report, stats, seconds);
      // Published before it is logged: whoever sees the log line (tests, people
      // tailing the log) finds this report at /v1/report.
      board_.Publish(published);
      const Report& r = published->report;
      std::string verdict = VerdictName(r.verdict);
      std::string first_error = r.errors.empty() ? "" : r.errors.front();
      if (verdict != last_verdict || stats.windows_judged > 0) {
        log::Info("report",
                  {{"verdict", verdict},
                   {"windows_judged", stats.windows_judged},
                   {"seconds", seconds},
                   {"reasons", r.reasons.size() > 3 ? std::vector<std::string>(
                                                          r.reasons.begin(), r.reasons.begin() + 3)
                                                    : r.reasons}});
      }
      if (first_error != last_error && !first_error.empty())
        log::Warn("compare cannot judge", {{"error", first_error}});
      last_verdict = verdict;
      last_error = first_error;
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, kTick, [this] { return stopping_ || next_config_.has_value(); });
    }
  }

  std::string file_;
  Config config_;
  Metrics metrics_;
  CompareMetrics cm_;
  std::unique_ptr<Comparator> comparator_;  // the judge thread's
  ReportBoard board_;
  IoWorkers workers_;
  CompareHandler handler_;
  http::Server server_;
  ServiceRunner runner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::optional<Config> next_config_;
  std::thread judge_;
};

}  // namespace

int RunCompare(const std::string& config_file) {
  log::Init("compare");
  CompareProcess p(config_file);
  return p.Run();
}

int RunCompareOnce(const std::string& config_file, std::optional<Color> live) {
  log::Init("compare");
  Config config = LoadConfig(config_file);
  std::optional<LiveState> state;
  std::string error;
  if (live) {
    state = LiveState{*live, 0};
  } else {
    state = ReadLiveState(config, error);
  }
  Comparator comparator(config, Opener(config));
  Report report = comparator.Run(UnixMillis(), state, nullptr, error);
  std::cout << ReportToJson(report).dump(2) << "\n";
  return report.verdict == Verdict::kReady ? 0 : 1;
}

}  // namespace tandem::compare
