// The one way tests write a Tandem config: loopback everywhere, port 0 (any free
// port) for listeners a test does not use, each color its own dataset and spool.
// Set what the test cares about, then Write() it into a folder.
#pragma once

#include <cstdint>
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

// A whole stack for `tandem up`: every listener on its own free loopback port
// (ingest, admin and compare returned), compare_url pointing at compare.
struct StackPorts {
  uint16_t ingest = 0, admin = 0, compare = 0;
};
TestConfig StackConfig(StackPorts& ports);
// The pipeline section for `tandem replay`'s sample: its events allowlisted,
// one capture tracker writing {color}-vendor.jsonl.
inline constexpr const char* kSamplePipeline =
    "pipeline:\n  allowlist:\n    events:\n      pageview: [path, referrer, title]\n"
    "      signup: [plan]\n      purchase product: [category, productName]\n"
    "  trackers:\n    - { name: capture, kind: capture, path: \"{color}-vendor.jsonl\" }\n";

}  // namespace tandem::testing
