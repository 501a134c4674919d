#include "tests/support/test_config.h"

#include <fstream>
#include <sstream>

#include "tests/support/stub_upstream.h"

namespace tandem::testing {
namespace {

void Color(std::ostringstream& y, const char* name, const TestColorConfig& c) {
  y << "  " << name << ":\n"
    << "    dispatcher_listen: \"" << c.dispatcher_listen << "\"\n"
    << "    trace_listen: \"" << c.trace_listen << "\"\n"
    << "    dataset: "
    << (c.dataset.empty() ? std::string("{ kind: sqlite, path: ") + name + ".db }" : c.dataset)
    << "\n"
    << c.extra;
}

}  // namespace

std::string TestConfig::Yaml() const {
  std::ostringstream y;
  y << "splitter:\n"
    << "  listen: \"" << listen << "\"\n"
    << "  admin_listen: \"" << admin_listen << "\"\n"
    << "  admin_token_env: TANDEM_TEST_ADMIN_TOKEN\n"
    << "  state_file: state.json\n"
    << "  compare_url: \""
    << (compare_url.empty() ? "http://127.0.0.1:" + std::to_string(ClosedPort()) : compare_url)
    << "\"\n"
    << splitter_extra << "colors:\n";
  Color(y, "blue", blue);
  Color(y, "green", green);
  y << "compare:\n  listen: \"" << compare_listen << "\"\n" << compare_extra << extra;
  return y.str();
}

std::string TestConfig::Write(const std::string& dir) const {
  std::string path = dir + "/tandem.yaml";
  std::ofstream(path) << Yaml();
  return path;
}

TestConfig StackConfig(StackPorts& ports) {
  auto at = [](uint16_t port) { return "127.0.0.1:" + std::to_string(port); };
  // Seven listeners; ports picked one by one could repeat (each is free again
  // once released), and a config with a repeated address is refused.
  std::vector<uint16_t> free = ClosedPorts(7);
  ports = {free[0], free[1], free[2]};
  TestConfig c;
  c.listen = at(ports.ingest);
  c.admin_listen = at(ports.admin);
  c.compare_url = "http://" + at(ports.compare);
  c.compare_listen = at(ports.compare);
  c.blue.dispatcher_listen = at(free[3]);
  c.blue.trace_listen = at(free[4]);
  c.green.dispatcher_listen = at(free[5]);
  c.green.trace_listen = at(free[6]);
  return c;
}

}  // namespace tandem::testing
