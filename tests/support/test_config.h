// The one way tests write a Tandem config: loopback everywhere, port 0 (any free
// port) for listeners a test does not use, each color its own dataset and spool.
// Set what the test cares about, then Write() it into a folder.
#pragma once

#include <string>

namespace tandem::testing {

struct TestColorConfig {
  std::string dispatcher_listen = "127.0.0.1:0";
  std::string trace_listen = "127.0.0.1:0";
  std::string dataset;  // YAML flow map; default { kind: sqlite, path: COLOR.db }
  std::string extra;    // more keys under colors.COLOR, each line indented by 4
};

struct TestConfig {
  std::string listen = "127.0.0.1:0";
  std::string admin_listen = "127.0.0.1:0";
  std::string compare_url;     // default: a closed port
  std::string splitter_extra;  // more keys under splitter, each line indented by 2
  TestColorConfig blue, green;
  std::string compare_listen = "127.0.0.1:0";
  std::string compare_extra;  // more keys under compare, each line indented by 2
  std::string extra;          // more top-level sections (pipeline:)

  std::string Yaml() const;
  // Writes DIR/tandem.yaml and returns its path.
  std::string Write(const std::string& dir) const;
};

}  // namespace tandem::testing
