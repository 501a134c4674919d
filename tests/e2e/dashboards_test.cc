// dashboards/ for real: the whole local stack (`tandem up`) with traffic, scraped
// by Debian's Prometheus loading dashboards/rules.yaml; every metric the
// dashboards and rules name is exported, every panel and recording rule returns
// data, every alert's expression (in its bool form) returns data, and every rule
// evaluates without error. promtool's own checks run as the ctest tests
// dashboards_promtool_check and dashboards_promtool_test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/fetch.h"
#include "common/url_encode.h"
#include "tests/support/dashboard_exprs.h"
#include "tests/support/process.h"
#include "tests/support/splitter_harness.h"
#include "tests/support/stub_upstream.h"
#include "tests/support/test_config.h"

namespace tandem::testing {
namespace {

using json = nlohmann::json;

std::set<std::string> Families(const std::string& metrics_text) {
  std::set<std::string> out;
  std::istringstream in(metrics_text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) out.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  return out;
}

// The metric families an expression names (histogram series mapped to their family).
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

std::set<std::string> RecordedNamesUsed(const std::string& expr) {
  std::set<std::string> out;
  static const std::regex name("tandem:[a-z_:0-9]+");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator();
       ++it)
    out.insert(it->str());
  return out;
}

TEST(Dashboards, EveryExpressionNamesAMetricOrARecordedSeriesTheRulesDefine) {
  auto exprs = DashboardExprs();
  std::set<std::string> recorded;
  for (const auto& e : exprs)
    if (e.kind == DashboardExpr::Kind::kRecord) recorded.insert(e.name);
  ASSERT_GE(exprs.size(), 40u);
  for (const auto& e : exprs) {
    auto used = RecordedNamesUsed(e.expr);
    // Prometheus's own `up` of the tandem-* scrape jobs counts as Tandem's.
    bool scrape_health = e.expr.find("up{job=~\"tandem-") != std::string::npos;
    EXPECT_FALSE(Referenced(e.expr).empty() && used.empty() && !scrape_health)
        << e.where << ": " << e.expr;
    for (const auto& r : used) EXPECT_TRUE(recorded.count(r)) << e.where << " uses " << r;
  }
}

TEST(Dashboards, EveryAlertHasAPromtoolTestWhereItFires) {
  std::vector<std::string> alerts;
  for (const auto& e : DashboardExprs())
    if (e.kind == DashboardExpr::Kind::kAlert) alerts.push_back(e.name);
  auto firing = AlertsTestedFiring();
  ASSERT_GE(alerts.size(), 15u);
  for (const auto& a : alerts)
    EXPECT_TRUE(std::find(firing.begin(), firing.end(), a) != firing.end())
        << a << " has no test in dashboards/tests/rules_test.yaml where it fires";
}

TEST(Dashboards, BoolFormTurnsComparisonsOutsideMatchersIntoBool) {
  EXPECT_EQ(BoolForm(R"(sum(x{a!="b",c=~"d>e"}) > 0)"), R"(sum(x{a!="b",c=~"d>e"}) > bool 0)");
  EXPECT_EQ(BoolForm("a != 1 or b >= 2 or c == 3 or d <= 4 or e < 5"),
            "a != bool 1 or b >= bool 2 or c == bool 3 or d <= bool 4 or e < bool 5");
  EXPECT_EQ(BoolForm("a > ignoring(e) group_left b"), "a > bool ignoring(e) group_left b");
  EXPECT_EQ(BoolForm("a > bool 1"), "a > bool 1");
}

TEST(Dashboards, OrArmsSplitsOnlyTheTopLevelOr) {
  EXPECT_EQ(OrArms("a > 1\n  or sum(b or c) > 2 or absent(d{x=\"or\"})"),
            (std::vector<std::string>{"a > 1", "sum(b or c) > 2", "absent(d{x=\"or\"})"}));
  EXPECT_EQ(OrArms("errors_total"), (std::vector<std::string>{"errors_total"}));
}

// A Prometheus server scraping the stack, with dashboards/rules.yaml loaded.
class PrometheusServer {
 public:
  PrometheusServer(const std::string& dir, const std::string& scrape_configs) {
    port_ = ClosedPort();
    std::ofstream(dir + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "rule_files:\n  - " << TANDEM_SOURCE_DIR << "/dashboards/rules.yaml\n"
        << "scrape_configs:\n"
        << scrape_configs;
    process_ = std::make_unique<Process>(std::vector<std::string>{
        "/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
        "--storage.tsdb.path=" + dir + "/prometheus-data",
        "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.format=json"});
    if (!process_->WaitForLog("Server is ready to receive web requests."))
      throw std::runtime_error("prometheus did not start:\n" + process_->Output());
  }

  // The result of an instant query, or an error string.
  json Query(const std::string& expr, std::string& error) {
    auto r = http::Fetch(
        http::Verb::get,
        "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/query?query=" + PercentEncode(expr),
        "", "", std::chrono::seconds(5));
    if (r.ec) {
      error = r.ec.message();
      return {};
    }
    auto j = json::parse(r.res.body(), nullptr, false);
    if (j.value("status", "") != "success") {
      error = r.res.body();
      return {};
    }
    error.clear();
    return j["data"]["result"];
  }

  json Get(const std::string& path) {
    auto r = http::Fetch(http::Verb::get, "http://127.0.0.1:" + std::to_string(port_) + path, "",
                         "", std::chrono::seconds(5));
    return json::parse(r.res.body(), nullptr, false);
  }

  // Queries `expr` until it returns at least one series (rates need two
  // scrapes, recording rules an evaluation), at most `deadline`.
  bool WaitForData(const std::string& expr, std::chrono::seconds deadline, std::string& last) {
    auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      std::string error;
      json result = Query(expr, error);
      if (error.empty() && result.is_array() && !result.empty()) return true;
      last = error.empty() ? "no data" : error;
      if (std::chrono::steady_clock::now() > until) return false;
      // Prometheus scrapes and evaluates once a second; ask again after a scrape.
      usleep(250 * 1000);
    }
  }

 private:
  uint16_t port_;
  std::unique_ptr<Process> process_;
};

std::string Target(const char* job, uint16_t port, const char* color = nullptr) {
  std::string s = "  - job_name: " + std::string(job) + "-" + std::to_string(port) +
                  "\n    static_configs:\n      - targets: [\"127.0.0.1:" + std::to_string(port) +
                  "\"]\n";
  s += "        labels: { service: " + std::string(job) +
       (color ? std::string(", color: ") + color : "") + " }\n";
  return s;
}

TEST(Dashboards, EveryPanelAndRuleReturnsDataFromARealPrometheusOverTheStack) {
  TempDir dir;
  uint16_t ingest = ClosedPort(), admin = ClosedPort(), compare = ClosedPort();
  uint16_t dispatcher[2] = {ClosedPort(), ClosedPort()}, trace[2] = {ClosedPort(), ClosedPort()};
  TestConfig c;
  c.listen = "127.0.0.1:" + std::to_string(ingest);
  c.admin_listen = "127.0.0.1:" + std::to_string(admin);
  c.compare_url = "http://127.0.0.1:" + std::to_string(compare);
  c.compare_listen = "127.0.0.1:" + std::to_string(compare);
  c.blue.dispatcher_listen = "127.0.0.1:" + std::to_string(dispatcher[0]);
  c.blue.trace_listen = "127.0.0.1:" + std::to_string(trace[0]);
  c.green.dispatcher_listen = "127.0.0.1:" + std::to_string(dispatcher[1]);
  c.green.trace_listen = "127.0.0.1:" + std::to_string(trace[1]);
  // One-second windows, so compare judges windows while the test runs.
  c.compare_extra =
      "  window_seconds: 1\n  settle_seconds: 1\n  min_events_per_window: 1\n"
      "  windows_required: 2\n";
  c.extra = "pipeline:\n  allowlist:\n    events:\n      pageview: [path]\n      signup: [plan]\n";
  std::string cfg = c.Write(dir.path());
  Process up({TandemBinary(), "up", "-c", cfg}, {kTokenEnv});
  ASSERT_TRUE(WaitForStack(up)) << up.Output();

  // Traffic until the test is done: bounded in count and time.
  std::atomic<bool> done{false};
  std::thread traffic([&] {
    const char* events[] = {"pageview", "signup", "not allowlisted"};
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    for (int i = 0; i < 20000 && !done && std::chrono::steady_clock::now() < until; ++i) {
      http::FetchWith(http::Verb::post, "http://127.0.0.1:" + std::to_string(ingest) + "/v1/events",
                      std::string(R"({"event":")") + events[i % 3] + R"(","deviceId":"d)" +
                          std::to_string(i % 7) + R"(","properties":{"path":"/p","plan":"pro"}})",
                      "application/json", {}, std::chrono::seconds(5));
      usleep(5 * 1000);  // a steady trickle, ~150 events/s, not a flood
    }
  });
  struct StopTraffic {
    std::atomic<bool>& done;
    std::thread& t;
    ~StopTraffic() {
      done = true;
      t.join();
    }
  } stop{done, traffic};

  auto exprs = DashboardExprs();
  std::string scrape =
      Target("tandem-splitter", admin) + Target("tandem-dispatcher", dispatcher[0], "blue") +
      Target("tandem-dispatcher", dispatcher[1], "green") +
      Target("tandem-trace", trace[0], "blue") + Target("tandem-trace", trace[1], "green") +
      Target("tandem-compare", compare);
  PrometheusServer prometheus(dir.path(), scrape);

  std::string last;
  ASSERT_TRUE(prometheus.WaitForData("count(up == 1) == 6", std::chrono::seconds(30), last))
      << last;
  // Compare has judged a window with deliveries in it.
  ASSERT_TRUE(
      prometheus.WaitForData("tandem_compare_judged_window_end_seconds > 0 and "
                             "on() sum(tandem_compare_vendor_deliveries) > 0",
                             std::chrono::seconds(60), last))
      << last << "\n"
      << up.Output();

  // Every metric family the dashboards and rules name is exported by a service
  // (families whose series appear with a judged window: checked after one).
  std::set<std::string> exported;
  for (uint16_t port : {admin, dispatcher[0], dispatcher[1], trace[0], trace[1], compare}) {
    auto r = http::Fetch(http::Verb::get, "http://127.0.0.1:" + std::to_string(port) + "/metrics",
                         "", "", std::chrono::seconds(5));
    auto f = Families(r.res.body());
    exported.insert(f.begin(), f.end());
  }
  for (const auto& e : exprs)
    for (const auto& n : Referenced(e.expr))
      EXPECT_TRUE(exported.count(n)) << n << " (" << e.where << ") is not exported";

  int checked = 0;
  for (const auto& e : exprs) {
    std::vector<std::string> queries = {e.expr};
    if (e.kind == DashboardExpr::Kind::kAlert) {
      // Each arm of an alert on its own, in bool form; absent() returns data
      // only when what it watches is gone.
      queries.clear();
      for (const auto& arm : OrArms(e.expr))
        if (arm.rfind("absent(", 0) != 0) queries.push_back(BoolForm(arm));
    }
    for (const auto& q : queries) {
      EXPECT_TRUE(prometheus.WaitForData(q, std::chrono::seconds(20), last))
          << e.where << ": " << q << " -> " << last;
    }
    if (e.kind == DashboardExpr::Kind::kRecord) {
      EXPECT_TRUE(prometheus.WaitForData(e.name, std::chrono::seconds(20), last))
          << "recorded series " << e.name << " -> " << last;
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(exprs.size()));

  // Prometheus evaluated every rule without an error.
  json rules = prometheus.Get("/api/v1/rules");
  int rule_count = 0;
  for (const auto& g : rules["data"]["groups"]) {
    for (const auto& r : g["rules"]) {
      ++rule_count;
      EXPECT_EQ(r.value("health", ""), "ok") << r.dump();
    }
  }
  EXPECT_EQ(rule_count, static_cast<int>(std::count_if(exprs.begin(), exprs.end(), [](auto& e) {
              return e.kind != DashboardExpr::Kind::kPanel;
            })));
}

}  // namespace
}  // namespace tandem::testing
