// The `tandem` subcommands other than the services themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"

namespace tandem::app {

int CheckConfig(const std::string& file);
// With `admins` (a fleet's splitters' admin HOST:PORT), also every splitter's view.
int ShowStatus(const std::string& file, const std::vector<std::string>& admins = {});
struct SwapOptions {
  bool force = false;
  std::string reason;
  // The color the caller saw live; empty: read it from the admin API first.
  std::string expect_live;
};
int Promote(const std::string& file, const SwapOptions& o);
int Rollback(const std::string& file, const SwapOptions& o);
// `tandem bigquery bootstrap`: creates the color's dataset, tables and view (either kind).
int Bootstrap(const std::string& file, Color color);

struct ReplayOptions {
  double rate = 100;  // events per second
  uint64_t count = 1000;
  std::string input;  // JSONL file; empty: the bundled sample
  uint32_t concurrency = 64;
  std::string accepted_ids;  // file: the id of every accepted event, a line each
};
int Replay(const std::string& file, const ReplayOptions& o);

struct BackfillOptions {
  Color color = Color::kBlue;
  int64_t from_ms = 0, to_ms = 0;  // received_at range, [from, to)
  std::string vendor;              // one tracker's name; empty: every tracker
  std::string role;                // live | candidate; empty: ask the splitter
  size_t page = 5000;              // events read per query
};
int Backfill(const std::string& file, const BackfillOptions& o);
// A time for --from/--to: Unix milliseconds, or UTC as 2026-11-29T09:30:00Z.
std::optional<int64_t> ParseTimeMs(const std::string& text);

// Runs the local stack as children; `self` is this executable's path.
int Up(const std::string& file, const std::string& self);

}  // namespace tandem::app
