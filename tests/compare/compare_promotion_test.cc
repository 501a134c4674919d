// compare as a process between a real splitter and real datasets: `tandem
// promote` obeys its verdict end to end, `tandem rollback` always works,
// `tandem compare --once` answers with its exit code, and /v1/report, /metrics
// and the page serve what it found.
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fetch.h"
#include "datasets/sqlite_dataset.h"
#include "tests/support/generated_datasets.h"
#include "tests/support/process.h"
#include "tests/support/splitter_harness.h"
#include "tests/support/stub_upstream.h"
#include "tests/support/test_config.h"

namespace tandem::testing {
namespace {

using json = nlohmann::json;

// A splitter and compare over two SQLite datasets holding four settled windows
// of generated traffic (green live, blue the candidate).
class PromotionStack {
 public:
  explicit PromotionStack(TrafficSpec spec) {
    admin_port_ = ClosedPort();
    compare_port_ = ClosedPort();
    TestConfig c;
    c.admin_listen = "127.0.0.1:" + std::to_string(admin_port_);
    c.compare_url = "http://127.0.0.1:" + std::to_string(compare_port_);
    c.compare_listen = "127.0.0.1:" + std::to_string(compare_port_);
    c.compare_extra = "  window_seconds: 60\n  settle_seconds: 5\n";
    config_ = c.Write(dir_.path());
    const int64_t minute = 60000;
    // Four settled windows, and traffic on into the next two minutes, so a
    // window that settles while the test runs holds events too.
    const int64_t settled_end = (UnixMillis() - 5000) / minute * minute;
    spec.start_ms = settled_end - 4 * minute;
    spec.windows = 6;
    GeneratedTraffic t = Generate(spec);
    SqliteDataset green(dir_.path() + "/green.db"), blue(dir_.path() + "/blue.db");
    EXPECT_TRUE(green.Bootstrap().ok());
    EXPECT_TRUE(blue.Bootstrap().ok());
    WriteArrived(t.live, green, INT64_MIN, INT64_MAX);
    WriteArrived(t.candidate, blue, INT64_MIN, INT64_MAX);

    splitter_ = std::make_unique<Process>(
        std::vector<std::string>{TandemBinary(), "splitter", "-c", config_},
        std::vector<std::string>{kTokenEnv});
    if (!splitter_->WaitForLog("listening"))
      throw std::runtime_error("splitter did not start:\n" + splitter_->Output());
    compare_ = std::make_unique<Process>(
        std::vector<std::string>{TandemBinary(), "compare", "-c", config_},
        std::vector<std::string>{kTokenEnv});
    if (!compare_->WaitForLog("listening"))
      throw std::runtime_error("compare did not start:\n" + compare_->Output());
    if (!compare_->WaitForLog("report"))
      throw std::runtime_error("compare made no report:\n" + compare_->Output());
  }

  struct Answer {
    int code;
    std::string output;
  };
  Answer Cli(std::vector<std::string> args) {
    args.insert(args.begin(), TandemBinary());
    Process p(args, {kTokenEnv});
    auto code = p.Wait();
    return {code.value_or(-1), p.Output()};
  }
  Answer Cli(const std::string& command) { return Cli({command, "-c", config_}); }

  std::string Live() {
    auto r = http::Fetch(http::Verb::get,
                         "http://127.0.0.1:" + std::to_string(admin_port_) + "/admin/v1/state", "",
                         kAdminToken, std::chrono::seconds(5));
    return json::parse(r.res.body(), nullptr, false).value("live", "?");
  }

  http::FetchResult Get(const std::string& path) {
    return http::Fetch(http::Verb::get, "http://127.0.0.1:" + std::to_string(compare_port_) + path,
                       "", "", std::chrono::seconds(5));
  }

  // Waits for compare to publish a report after the live color changed.
  void WaitForReportAbout(const std::string& live) {
    ASSERT_TRUE(compare_->WaitForLog("report", std::chrono::seconds(10), [&](const json&) {
      auto r = Get("/v1/report");
      return json::parse(r.res.body(), nullptr, false).value("live", "") == live;
    })) << compare_->Output();
  }

  TempDir dir_;
  std::string config_;
  uint16_t admin_port_, compare_port_;
  std::unique_ptr<Process> splitter_, compare_;
};

TrafficSpec Healthy() {
  TrafficSpec s;
  s.events_per_window = 1500;
  return s;
}

TEST(Promotion, APromotionThroughTheCliObeysAReadyVerdictAndRollbackSwapsBack) {
  PromotionStack stack(Healthy());
  auto report = json::parse(stack.Get("/v1/report").res.body(), nullptr, false);
  ASSERT_EQ(report.value("verdict", ""), "ready") << report.dump(2);
  EXPECT_GE(report["windows"].size(), 4u);

  auto status = stack.Cli("status");
  EXPECT_EQ(status.code, 0) << status.output;
  EXPECT_NE(status.output.find("ready"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("With 95% confidence"), std::string::npos) << status.output;

  auto promoted = stack.Cli("promote");
  EXPECT_EQ(promoted.code, 0) << promoted.output;
  EXPECT_EQ(stack.Live(), "blue");
  // Compare follows the splitter: the windows judged before belong to the old
  // candidate, so there is nothing to judge the new one on yet.
  stack.WaitForReportAbout("blue");
  report = json::parse(stack.Get("/v1/report").res.body(), nullptr, false);
  EXPECT_EQ(report.value("candidate", ""), "green");
  EXPECT_NE(report.value("verdict", ""), "ready") << report.dump(2);

  auto rolled = stack.Cli("rollback");
  EXPECT_EQ(rolled.code, 0) << rolled.output;
  EXPECT_EQ(stack.Live(), "green");
}

TEST(Promotion, ABadCandidateIsRefusedByTheCliAndRollbackStillWorks) {
  TrafficSpec s = Healthy();
  s.drop_event = "purchase product";
  s.drop_fraction = 0.01;
  PromotionStack stack(s);
  auto once = stack.Cli({"compare", "-c", stack.config_, "--once"});
  EXPECT_EQ(once.code, 1) << once.output;
  EXPECT_NE(once.output.find("\"not_ready\""), std::string::npos) << once.output;

  auto promoted = stack.Cli("promote");
  EXPECT_EQ(promoted.code, 1) << promoted.output;
  EXPECT_NE(promoted.output.find("event 'purchase product'"), std::string::npos) << promoted.output;
  EXPECT_EQ(stack.Live(), "green") << "a refused promotion swaps nothing";

  // Rollback is never guarded: it swaps whatever the verdict says.
  auto rolled = stack.Cli("rollback");
  EXPECT_EQ(rolled.code, 0) << rolled.output;
  EXPECT_EQ(stack.Live(), "blue");
  // A retried rollback with the color it saw live does not swap back.
  auto retried = stack.Cli({"rollback", "-c", stack.config_, "--expect-live", "green"});
  EXPECT_EQ(retried.code, 0) << retried.output;
  EXPECT_EQ(stack.Live(), "blue");

  // --force promotes against the verdict, with a reason.
  auto forced = stack.Cli({"promote", "-c", stack.config_, "--force", "--reason", "drill"});
  EXPECT_EQ(forced.code, 0) << forced.output;
  EXPECT_EQ(stack.Live(), "green");
}

TEST(Promotion, CompareServesMetricsAndThePage) {
  PromotionStack stack(Healthy());
  auto metrics = stack.Get("/metrics").res.body();
  EXPECT_NE(metrics.find("tandem_compare_promotion_ready 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tandem_compare_events{color=\"green\",event=\"(other)\"}"),
            std::string::npos)
      << "events not on the allowlist are folded into one label\n"
      << metrics;
  EXPECT_NE(metrics.find("tandem_compare_missing_events{side=\"candidate\"} 0"), std::string::npos);
  EXPECT_NE(metrics.find("tandem_compare_drift_ratio{event="), std::string::npos);
  auto page = stack.Get("/");
  EXPECT_EQ(page.res.result_int(), 200u);
  const std::string& html = page.res.body();
  EXPECT_NE(html.find("id=\"verdict\" class=\"verdict ready\">ready<"), std::string::npos) << html;
  EXPECT_NE(html.find("<svg id=\"drift\""), std::string::npos);
  EXPECT_NE(html.find("With 95% confidence the candidate drops fewer than"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos) << "no external assets";
  EXPECT_NE(page.res["Content-Security-Policy"].find("default-src 'none'"), std::string::npos);
}

// The page in a real browser (Debian's Chromium, driven by playwright-core from
// tests/browser): what a release engineer sees for a candidate that drops 1% of
// one event and whose payloads for one vendor lose a field. TANDEM_SCREENSHOT
// names where its screenshot goes (docs/report-page.png is one).
TEST(Promotion, ThePageInChromiumShowsTheVerdictItsReasonsTheDriftAndTheFieldsThatDiffer) {
  const std::string node = OnPath("node");
  const std::string script = std::string(TANDEM_SOURCE_DIR) + "/tests/browser/report_page.mjs";
  ASSERT_FALSE(node.empty()) << "node is not installed: run scripts/deps.sh";
  ASSERT_EQ(
      access(
          (std::string(TANDEM_SOURCE_DIR) + "/tests/browser/node_modules/playwright-core").c_str(),
          R_OK),
      0)
      << "playwright-core is not installed: run scripts/deps.sh";
  ASSERT_EQ(access("/usr/bin/chromium", X_OK), 0)
      << "chromium is not installed: run scripts/deps.sh";

  TrafficSpec s = Healthy();
  s.drop_event = "purchase product";
  s.drop_fraction = 0.01;
  s.strip_vendor = "amp";
  s.strip_event = "purchase product";
  s.strip_field = "category";
  PromotionStack stack(s);
  const char* shot_env = getenv("TANDEM_SCREENSHOT");
  std::string shot = shot_env ? shot_env : stack.dir_.path() + "/report-page.png";
  Process browser(
      {node, script, "http://127.0.0.1:" + std::to_string(stack.compare_port_) + "/", shot});
  auto seen = browser.WaitForLog("page", std::chrono::seconds(60));
  ASSERT_TRUE(seen) << browser.Output();
  EXPECT_EQ(browser.Wait(), 0) << browser.Output();
  const json& p = *seen;

  EXPECT_EQ(p["status"], 200);
  EXPECT_EQ(p["verdict"], "not_ready");
  EXPECT_EQ(p["verdictColor"], "rgb(198, 40, 40)") << "not_ready is drawn red";
  EXPECT_EQ(p["live"], "green");
  EXPECT_EQ(p["candidate"], "blue");
  EXPECT_NE(p.value("refresh", ""), "") << "the page refreshes itself";
  bool names_event = false, names_field = false;
  for (const auto& r : p["reasons"]) {
    names_event |= r.get<std::string>().find("'purchase product'") != std::string::npos;
    names_field |= r.get<std::string>().find("category") != std::string::npos;
  }
  EXPECT_TRUE(names_event) << p["reasons"].dump(2);
  EXPECT_TRUE(names_field) << p["reasons"].dump(2);
  // Drift per window, drawn: one bar per window, with a size on the screen.
  ASSERT_TRUE(p["drift"].is_object()) << p.dump(2);
  EXPECT_GE(p["drift"]["bars"].get<int>(), 4);
  EXPECT_GT(p["drift"]["width"].get<double>(), 100);
  EXPECT_GT(p["drift"]["height"].get<double>(), 20);
  bool a_failing_window = false;
  for (const auto& w : p["windows"]) a_failing_window |= w == "FAIL";
  EXPECT_TRUE(a_failing_window) << p["windows"].dump();
  // The failing window's events, with the ids missing in the candidate.
  uint64_t missing = 0;
  for (size_t i = 0; i < p["events"].size(); ++i)
    if (p["events"][i] == "purchase product") missing = p["missingInCandidate"][i].get<uint64_t>();
  EXPECT_GT(missing, 0u) << p.dump(2);
  // Vendor payload differences, field by field.
  bool removed = false;
  for (size_t i = 0; i < p["fields"].size(); ++i)
    removed |= p["fields"][i].get<std::string>().find("category") != std::string::npos &&
               p["fieldChanges"][i] == "removed";
  EXPECT_TRUE(removed) << p["fields"].dump() << p["fieldChanges"].dump();
  // Self-contained: nothing fetched from elsewhere, no script, a strict CSP.
  EXPECT_TRUE(p["foreign"].empty()) << p["foreign"].dump();
  EXPECT_EQ(p["scriptTags"], 0);
  EXPECT_TRUE(p["consoleErrors"].empty()) << p["consoleErrors"].dump();
  EXPECT_NE(p["csp"].get<std::string>().find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(access(shot.c_str(), R_OK), 0) << "no screenshot at " << shot;
}

TEST(Promotion, WithTheSplitterDownCompareIsNeverReadyAndPromoteRefuses) {
  PromotionStack stack(Healthy());
  stack.splitter_->Signal(SIGTERM);
  ASSERT_EQ(stack.splitter_->Wait(), 0);
  ASSERT_TRUE(stack.compare_->WaitForLog("compare cannot judge")) << stack.compare_->Output();
  auto report = json::parse(stack.Get("/v1/report").res.body(), nullptr, false);
  EXPECT_EQ(report.value("verdict", ""), "not_ready") << report.dump(2);
  auto promoted = stack.Cli("promote");
  EXPECT_EQ(promoted.code, 1) << promoted.output;
}

}  // namespace
}  // namespace tandem::testing
