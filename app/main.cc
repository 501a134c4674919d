// tandem: one binary, a subcommand per service or tool (SPEC section 1).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "common/config.h"
#include "compare/compare_service.h"
#include "pipeline/dispatcher_service.h"
#include "pipeline/trace/trace_service.h"
#include "splitter/splitter_service.h"

namespace {

std::string SelfPath(const char* argv0) {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : p.string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tandem: a blue/green release harness for a product-analytics event pipeline"};
  app.require_subcommand(1);
  std::string config;
  std::string color;

  auto* splitter =
      app.add_subcommand("splitter", "the front door: mirrors every event to blue and green");
  splitter->add_option("-c,--config", config, "config file")->required();

  auto* dispatcher = app.add_subcommand("dispatcher", "a pipeline's first stage");
  dispatcher->add_option("-c,--config", config)->required();
  dispatcher->add_option("--color", color)->required()->check(CLI::IsMember({"blue", "green"}));

  auto* trace = app.add_subcommand("trace", "a pipeline's second stage");
  trace->add_option("-c,--config", config)->required();
  trace->add_option("--color", color)->required()->check(CLI::IsMember({"blue", "green"}));

  auto* compare = app.add_subcommand("compare", "the comparator service");
  compare->add_option("-c,--config", config)->required();
  bool once = false;
  compare->add_flag("--once", once, "print one report as JSON and exit (0: ready, 1: not)");
  std::string compare_live;
  compare
      ->add_option("--live", compare_live,
                   "with --once: judge with this color live instead of asking the splitter")
      ->check(CLI::IsMember({"blue", "green"}));

  auto* up = app.add_subcommand("up", "the whole local stack under one supervisor");
  up->add_option("-c,--config", config)->required();

  auto* status = app.add_subcommand("status", "live/candidate colors and the current verdict");
  status->add_option("-c,--config", config)->required();
  std::vector<std::string> status_admins;
  status->add_option("--admin", status_admins,
                     "a fleet: each splitter's admin HOST:PORT, to show every splitter's view");

  tandem::app::SwapOptions so;
  auto* promote = app.add_subcommand("promote", "swap live and candidate, guarded by the verdict");
  promote->add_option("-c,--config", config)->required();
  promote->add_flag("--force", so.force, "skip the verdict (needs --reason)");
  promote->add_option("--reason", so.reason, "why, for the log");
  promote
      ->add_option("--expect-live", so.expect_live,
                   "swap only if this color is live (default: the one live now)")
      ->check(CLI::IsMember({"blue", "green"}));

  auto* rollback = app.add_subcommand("rollback", "swap back to the previous live color");
  rollback->add_option("-c,--config", config)->required();
  rollback->add_option("--reason", so.reason, "why, for the log");
  rollback
      ->add_option("--expect-live", so.expect_live,
                   "swap only if this color is live (default: the one live now)")
      ->check(CLI::IsMember({"blue", "green"}));

  tandem::app::ReplayOptions ro;
  auto* replay = app.add_subcommand("replay", "send events to the splitter at a set rate");
  replay->add_option("-c,--config", config)->required();
  replay->add_option("--rate", ro.rate, "events per second")->check(CLI::PositiveNumber);
  replay->add_option("--count", ro.count, "events to send")->check(CLI::PositiveNumber);
  replay->add_option("--accepted-ids", ro.accepted_ids,
                     "write the id of every accepted (202) event to this file, a line each");
  replay->add_option("--concurrency", ro.concurrency, "requests in flight at most")
      ->check(CLI::PositiveNumber);
  replay->add_option("input", ro.input,
                     "JSONL file, one event per line (default: the bundled sample)");

  tandem::app::BackfillOptions bo;
  std::string from, to;
  auto* backfill = app.add_subcommand(
      "backfill", "re-deliver a color's events for a time range from its dataset to vendors");
  backfill->add_option("-c,--config", config)->required();
  backfill->add_option("--color", color)->required()->check(CLI::IsMember({"blue", "green"}));
  backfill
      ->add_option("--from", from,
                   "start of the received_at range: Unix ms or 2026-11-29T09:00:00Z")
      ->required();
  backfill->add_option("--to", to, "end of the range (not included)")->required();
  backfill->add_option("--vendor", bo.vendor, "only this tracker (its name in pipeline.trackers)");
  backfill->add_option("--page", bo.page, "events read from the dataset per query")
      ->check(CLI::Range(1, 1000000));
  backfill->add_option("--role", bo.role, "the color's role (default: ask the splitter)")
      ->check(CLI::IsMember({"live", "candidate"}));
  auto* bigquery = app.add_subcommand("bigquery", "dataset administration");
  bigquery->require_subcommand(1);
  auto* bootstrap =
      bigquery->add_subcommand("bootstrap", "create a color's dataset, tables and view");
  bootstrap->add_option("-c,--config", config)->required();
  bootstrap->add_option("--color", color)->required()->check(CLI::IsMember({"blue", "green"}));

  std::string check_file;
  auto* check =
      app.add_subcommand("check-config", "validate a config and print what it resolved to");
  check->add_option("file", check_file)->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  try {
    if (*check) return tandem::app::CheckConfig(check_file);
    if (*splitter) return tandem::splitter::RunSplitter(config);
    if (*up) return tandem::app::Up(config, SelfPath(argv[0]));
    if (*status) return tandem::app::ShowStatus(config, status_admins);
    if (*promote) return tandem::app::Promote(config, so);
    if (*rollback) return tandem::app::Rollback(config, so);
    if (*replay) return tandem::app::Replay(config, ro);
    if (*dispatcher) return tandem::pipeline::RunDispatcher(config, *tandem::ParseColor(color));
    if (*trace) return tandem::trace::RunTrace(config, *tandem::ParseColor(color));
    if (*compare && once) {
      return tandem::compare::RunCompareOnce(
          config, compare_live.empty() ? std::nullopt : tandem::ParseColor(compare_live));
    }
    if (*compare) return tandem::compare::RunCompare(config);
    if (*backfill) {
      auto f = tandem::app::ParseTimeMs(from), t = tandem::app::ParseTimeMs(to);
      if (!f || !t) {
        std::cerr << "backfill: --from and --to take Unix milliseconds (13 digits) or UTC like "
                     "2026-11-29T09:00:00Z\n";
        return 2;
      }
      bo.color = *tandem::ParseColor(color);
      bo.from_ms = *f;
      bo.to_ms = *t;
      return tandem::app::Backfill(config, bo);
    }
    if (*bootstrap) return tandem::app::Bootstrap(config, *tandem::ParseColor(color));
  } catch (const tandem::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "tandem: " << e.what() << "\n";
    return 2;
  }
  return 2;
}
