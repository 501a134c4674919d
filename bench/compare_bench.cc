// compare's cost: one report over N events per color (SQLite, two vendors with
// recorded payloads), then the cost of each new window while a writer keeps
// adding rows to both datasets, as the dispatchers and trace do. Also counts the
// dataset queries per window (on BigQuery each is one jobs.query). Prints Markdown.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "compare/comparator.h"
#include "compare/window_diff.h"
#include "compare/window_reader.h"
#include "datasets/sqlite_dataset.h"
#include "tests/support/generated_datasets.h"
#include "tests/support/process.h"

namespace tandem {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kStart = 1767225600000;

// Counts the queries compare makes, passing everything else through.
class CountingDataset : public Dataset {
 public:
  CountingDataset(std::unique_ptr<Dataset> inner, std::atomic<uint64_t>& count)
      : inner_(std::move(inner)), count_(count) {}
  Status Bootstrap() override { return inner_->Bootstrap(); }
  WriteResult InsertRaw(const std::vector<RawRow>& r) override { return inner_->InsertRaw(r); }
  WriteResult InsertDeliveries(const std::vector<DeliveryRow>& r) override {
    return inner_->InsertDeliveries(r);
  }
  WriteResult InsertRejected(const std::vector<RejectedRow>& r) override {
    return inner_->InsertRejected(r);
  }
  OutcomesWriteResult InsertOutcomes(const std::vector<DeliveryRow>& d,
                                     const std::vector<RejectedRow>& r) override {
    return inner_->InsertOutcomes(d, r);
  }
  Status Query(const std::string& sql, std::vector<std::vector<std::string>>& rows) override {
    ++count_;
    return inner_->Query(sql, rows);
  }
  // Forwarded, not left to Dataset's default (which copies every cell of every
  // row first): compare reads windows through the dataset's own QueryEach.
  Status QueryEach(const std::string& sql, const RowFn& row) override {
    ++count_;
    return inner_->QueryEach(sql, row);
  }
  std::string Table(const std::string& t) const override { return inner_->Table(t); }
  SqlDialect dialect() const override { return inner_->dialect(); }

 private:
  std::unique_ptr<Dataset> inner_;
  std::atomic<uint64_t>& count_;
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Each color's read of each history window, alone: where a window's time goes.
int ReadsOnly(const std::string& folder, int windows) {
  SqliteDataset green(folder + "/green.db"), blue(folder + "/blue.db");
  compare::ColorWindow w;
  for (int i = 0; i < windows; ++i) {
    const int64_t from = kStart + i * int64_t{60000};
    for (Dataset* d : {static_cast<Dataset*>(&green), static_cast<Dataset*>(&blue)}) {
      auto t = Clock::now();
      Status s = compare::ReadWindow(*d, from, from + 60000, compare::Fingerprint::kHash, w);
      std::printf("window %d %s: %.3f s, %zu raw, %zu deliveries%s\n", i,
                  d == &green ? "green" : "blue", Seconds(t), w.raw.size(), w.deliveries.size(),
                  s.ok() ? "" : " (failed)");
    }
  }
  return 0;
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  using namespace tandem;
  CLI::App app("compare benchmark");
  int64_t events = 1000000, per_window = 100000;
  int new_windows = 5;
  std::string keep_dir;
  app.add_option("--events", events, "events per color in the history");
  app.add_option("--per-window", per_window, "events per window");
  app.add_option("--new-windows", new_windows, "new windows to judge after the first report");
  app.add_option("--keep-in", keep_dir, "write the datasets to this folder and keep them");
  bool reads_only = false;
  app.add_flag("--reads-only", reads_only,
               "time each history window's read on the datasets kept in --keep-in, and stop");
  CLI11_PARSE(app, argc, argv);
  if (reads_only) return ReadsOnly(keep_dir, static_cast<int>(events / per_window));

  testing::TempDir temp;
  const std::string folder = keep_dir.empty() ? temp.path() : keep_dir;
  const int history = static_cast<int>(events / per_window);
  testing::TrafficSpec spec;
  spec.start_ms = kStart;
  spec.window_ms = 60000;
  spec.windows = history + new_windows + 1;  // and one being written
  spec.events_per_window = static_cast<int>(per_window);
  auto t0 = Clock::now();
  auto traffic = testing::Generate(spec);
  std::string green_path = folder + "/green.db", blue_path = folder + "/blue.db";
  {
    SqliteDataset green(green_path), blue(blue_path);
    if (!green.Bootstrap().ok() || !blue.Bootstrap().ok()) return 1;
    const int64_t history_end = kStart + history * spec.window_ms;
    testing::WriteArrived(traffic.live, green, INT64_MIN, history_end);
    testing::WriteArrived(traffic.candidate, blue, INT64_MIN, history_end);
  }
  std::fprintf(stderr, "generated and loaded %lld events per color in %.1f s\n",
               static_cast<long long>(events), Seconds(t0));

  Config config;
  config.compare.window_seconds = 60;
  config.compare.settle_seconds = 0;
  config.compare.history_windows = static_cast<uint32_t>(history + new_windows + 1);
  std::atomic<uint64_t> queries{0};
  compare::Comparator comparator(config, [&](Color c) -> std::unique_ptr<Dataset> {
    return std::make_unique<CountingDataset>(
        std::make_unique<SqliteDataset>(c == Color::kGreen ? green_path : blue_path), queries);
  });
  const compare::LiveState state{Color::kGreen, 0};

  auto t1 = Clock::now();
  compare::RunStats first;
  compare::Report r = comparator.Run(kStart + history * spec.window_ms, state, &first);
  double first_s = Seconds(t1);
  uint64_t first_queries = queries.load();

  {
    // Where a window's time goes: each color's read, then the reconciliation.
    SqliteDataset green(green_path), blue(blue_path);
    compare::ColorWindow gw, bw;
    auto t = Clock::now();
    Status a = compare::ReadWindow(green, kStart, kStart + spec.window_ms,
                                   compare::Fingerprint::kHash, gw);
    double read_s = Seconds(t);
    t = Clock::now();
    Status b =
        compare::ReadWindow(blue, kStart, kStart + spec.window_ms, compare::Fingerprint::kHash, bw);
    double read2_s = Seconds(t);
    t = Clock::now();
    auto diff = compare::DiffWindow(gw, bw);
    double diff_s = Seconds(t);
    std::fprintf(stderr, "one window: read green %.3f s (%s), blue %.3f s, reconcile %.3f s\n",
                 read_s, a.ok() && b.ok() ? "ok" : "failed", read2_s, diff_s);
  }
  // The writer lands each next window's rows while compare judges the previous ones.
  std::printf("| measurement | result |\n|---|---|\n");
  std::printf("| first report: %lld events per color in %d windows (%s) | %.2f s, %llu queries |\n",
              static_cast<long long>(events), history, compare::VerdictName(r.verdict), first_s,
              static_cast<unsigned long long>(first_queries));
  std::vector<double> per_window_s;
  uint64_t per_window_queries = 0;
  {
    SqliteDataset green(green_path), blue(blue_path);
    // The new windows' rows have arrived (settled) before each is judged.
    const int64_t new_from = kStart + history * spec.window_ms;
    const int64_t new_to = new_from + new_windows * spec.window_ms;
    testing::WriteArrived(traffic.live, green, new_from, new_to);
    testing::WriteArrived(traffic.candidate, blue, new_from, new_to);
    // Meanwhile the pipelines keep writing the next window, at the rate the
    // traffic has (per_window events a minute), in 100 ms batches.
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      const int64_t step = 100;
      for (int64_t t = new_to; !stop && t < new_to + spec.window_ms; t += step) {
        auto next = Clock::now() + std::chrono::milliseconds(step);
        testing::WriteArrived(traffic.live, green, t, t + step);
        testing::WriteArrived(traffic.candidate, blue, t, t + step);
        std::this_thread::sleep_until(next);
      }
    });
    for (int i = 0; i < new_windows; ++i) {
      const int64_t from = new_from + i * spec.window_ms;
      uint64_t q0 = queries.load();
      auto t = Clock::now();
      compare::RunStats stats;
      r = comparator.Run(from + spec.window_ms, state, &stats);
      per_window_s.push_back(Seconds(t));
      per_window_queries = queries.load() - q0;
      if (stats.windows_judged != 1)
        std::fprintf(stderr, "judged %llu windows\n",
                     static_cast<unsigned long long>(stats.windows_judged));
    }
    stop = true;
    writer.join();
  }
  // Every window, in the order measured, so counts against the target are exact.
  std::string each;
  for (double w : per_window_s) {
    char one[16];
    std::snprintf(one, sizeof one, "%s%.3f", each.empty() ? "" : " ", w);
    each += one;
  }
  std::sort(per_window_s.begin(), per_window_s.end());
  std::printf("| each new window, in order (s) | %s |\n", each.c_str());
  std::printf(
      "| each new window of %lld events per color, while both datasets take writes (%d windows) | "
      "%.3f-%.3f s (median %.3f), %llu queries |\n",
      static_cast<long long>(per_window), new_windows, per_window_s.front(), per_window_s.back(),
      per_window_s[per_window_s.size() / 2], static_cast<unsigned long long>(per_window_queries));
  std::printf("| verdict after the new windows | %s |\n", compare::VerdictName(r.verdict));
  return 0;
}
