// A real `tandem trace --color C` process with a SQLite dataset in a temporary
// folder; the test plays its forwarder, posting stamped events to it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/sqlite_rows.h"
#include "tests/support/test_config.h"

namespace tandem::testing {

struct StampedPost {
  std::string id;
  int64_t received_at = 1764323791000;
  std::string body;
  std::string role = "live";
  bool redelivery = false;
  std::vector<std::pair<std::string, std::string>> headers;  // User-Agent, Referer, ...
};

class TraceHarness {
 public:
  // `pipeline_yaml` is the whole `pipeline:` section.
  explicit TraceHarness(const std::string& pipeline_yaml, const std::string& color = "blue");
  void Start(std::vector<std::string> env = {});
  void Kill();
  std::optional<int> Stop();

  // Returns the HTTP status (0 on a transport error).
  unsigned Post(const StampedPost& p);
  // Posts the events as one forwarder's batch; returns the HTTP status and
  // fills `statuses` with each event's.
  unsigned PostBatch(const std::vector<StampedPost>& posts, std::vector<unsigned>& statuses);
  // Posts raw bytes to the batch endpoint; returns the HTTP status.
  unsigned PostBatchBytes(const std::string& bytes);
  std::vector<Row> Deliveries() const;  // every column, ordered by tandem_id, vendor
  std::vector<Row> Rejected() const;
  std::string db_path() const { return dir.path() + "/" + color + ".db"; }
  std::string MetricsUrl() const;

  TempDir dir;
  TestConfig config;
  std::string color;
  std::unique_ptr<Process> proc;
  uint16_t port = 0;
};

}  // namespace tandem::testing
