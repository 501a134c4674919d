// dashboards/: the Grafana dashboard and the alert rules parse, and every metric
// they query is one a running splitter or dispatcher actually exports.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/dispatcher_harness.h"
#include "tests/support/splitter_harness.h"

namespace tandem::testing {
namespace {

std::set<std::string> Families(const std::string& metrics_text) {
  std::set<std::string> out;
  std::istringstream in(metrics_text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) out.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  return out;
}

std::set<std::string> Referenced(const std::string& expr) {
  std::set<std::string> out;
  static const std::regex name("tandem_[a-z_]+");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator();
       ++it) {
    std::string n = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (n.size() > strlen(suffix) &&
          n.compare(n.size() - strlen(suffix), strlen(suffix), suffix) == 0) {
        n.resize(n.size() - strlen(suffix));
      }
    }
    out.insert(n);
  }
  return out;
}

TEST(Dashboards, EveryQueriedMetricIsExported) {
  SplitterHarness s;
  s.Start();
  DispatcherHarness d;
  d.Start();
  std::set<std::string> exported =
      Families(http::Fetch(http::Verb::get, s.AdminUrl("/metrics"), "", "", std::chrono::seconds(5))
                   .res.body());
  auto more = Families(http::Fetch(http::Verb::get,
                                   "http://127.0.0.1:" + std::to_string(d.port) + "/metrics", "",
                                   "", std::chrono::seconds(5))
                           .res.body());
  exported.insert(more.begin(), more.end());
  ASSERT_TRUE(exported.count("tandem_splitter_forwarded_total"));

  std::vector<std::string> exprs;
  std::ifstream dash(std::string(TANDEM_SOURCE_DIR) + "/dashboards/tandem-pipeline.json");
  auto j = nlohmann::json::parse(dash);
  for (const auto& p : j["panels"]) {
    for (const auto& t : p["targets"]) exprs.push_back(t["expr"].get<std::string>());
  }
  YAML::Node rules = YAML::LoadFile(std::string(TANDEM_SOURCE_DIR) + "/dashboards/alerts.yaml");
  for (const auto& g : rules["groups"]) {
    for (const auto& r : g["rules"]) {
      ASSERT_TRUE(r["alert"] && r["expr"] && r["annotations"]["summary"]);
      exprs.push_back(r["expr"].as<std::string>());
    }
  }
  ASSERT_GE(exprs.size(), 10u);
  for (const auto& e : exprs) {
    auto names = Referenced(e);
    EXPECT_FALSE(names.empty()) << e;
    for (const auto& n : names) EXPECT_TRUE(exported.count(n)) << n << " in: " << e;
  }
}

}  // namespace
}  // namespace tandem::testing
