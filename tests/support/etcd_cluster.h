// A real etcd cluster on loopback for fleet tests: members run Debian's
// /usr/bin/etcd (etcd-server), each with its own client and peer port and data
// folder, and can be killed and started again.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace tandem::testing {

class EtcdCluster {
 public:
  // Starts `members` members and waits until the cluster has a leader.
  explicit EtcdCluster(int members = 3);

  int size() const { return static_cast<int>(members_.size()); }
  std::string client_url(int i) const;
  // The splitter's `etcd:` block (each line indented by 2, under splitter:).
  std::string SplitterYaml(const std::string& key = "/tandem/state") const;

  void Kill(int i);   // SIGKILL
  void Start(int i);  // again, on the same data folder
  // Waits until member i answers /health with a leader; false on timeout.
  bool WaitHealthy(int i, std::chrono::milliseconds limit = std::chrono::seconds(30)) const;
  // Writes `value` at `key` through member `i`; returns the store's revision after it.
  int64_t Put(const std::string& key, const std::string& value, int i = 0) const;
  // Compacts the store's history up to its current revision.
  void Compact(int i = 0) const;
  // The index of the current leader, asked of the running members; -1 if none knows.
  int Leader() const;

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0, peer_port = 0;
    std::unique_ptr<Process> proc;
  };
  TempDir dir_;
  std::vector<Member> members_;
  std::string initial_cluster_;
};

}  // namespace tandem::testing
