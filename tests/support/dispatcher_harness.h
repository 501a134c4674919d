// A real `tandem dispatcher --color blue` process with a SQLite dataset in a
// temporary folder, in front of a stand-in trace (or a closed port).
#pragma once

#include <memory>
#include <string>

#include "common/fetch.h"
#include "tests/support/process.h"
#include "tests/support/stub_upstream.h"
#include "tests/support/test_config.h"

namespace tandem::testing {

class DispatcherHarness {
 public:
  // `dataset_yaml` replaces blue's SQLite dataset; `extra_yaml` is appended to the config.
  // `blue_yaml` adds keys under colors.blue (each line indented by 4).
  explicit DispatcherHarness(bool trace_up = true, const std::string& dataset_yaml = "",
                             const std::string& extra_yaml = "", const std::string& blue_yaml = "");

  void Start();
  // Writes `config` again (before a Start or a SIGHUP).
  void Rewrite();
  void Kill();                // SIGKILL, no goodbye
  std::optional<int> Stop();  // SIGTERM and wait
  // Starts the stand-in trace at the configured port (after a trace outage).
  void StartTrace();

  // POST /v1/events stamped like the splitter does; returns the status (0 on transport error).
  // `mirror`: the X-Tandem-Mirror the splitter would stamp; empty sends none.
  unsigned Post(const std::string& id, int64_t received_at, const std::string& body,
                const std::string& mirror = "");
  double Metric(const std::string& sample);
  // Scrapes until the sample equals `value` or `timeout` passes; returns the last value.
  double WaitForMetric(const std::string& sample, double value,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // raw rows: tandem_id -> data, read with the sqlite3 C API.
  std::map<std::string, std::string> RawRows() const;
  // Reads raw until it holds `n` rows or `timeout` passes; returns the last count.
  size_t WaitForRawRows(size_t n,
                        std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  std::string MetricsUrl() const;
  std::string db_path() const { return dir.path() + "/blue.db"; }

  TempDir dir;
  TestConfig config;
  std::unique_ptr<StubUpstream> trace;
  uint16_t trace_port = 0;
  std::unique_ptr<Process> proc;
  uint16_t port = 0;
  std::optional<uint64_t> file_size_limit;  // RLIMIT_FSIZE for the next Start
};

// A UUIDv7-shaped id for test events.
std::string TestId(int i);
// Event i's body: valid JSON mostly, every tenth invalid JSON with raw bytes.
std::string EventBody(int i);
// Posts events [from, to) eight at a time; returns the ids acknowledged with 202.
std::vector<std::string> PostAll(DispatcherHarness& h, int from, int to);
// With trace down (a harness made with trace_up false): accepts events [from, to),
// stops the dispatcher and starts the stand-in trace, so the next Start() finds
// them all waiting in the spool, none sent yet. False if an event was refused or
// the stop was not clean.
bool LeaveBacklog(DispatcherHarness& h, int from, int to);

}  // namespace tandem::testing
