// The admin API: token, state, promotion guarded by compare, rollback, persistence.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "tests/support/splitter_harness.h"

namespace tandem::testing {
namespace {

using json = nlohmann::json;

std::string Report(const std::string& verdict, const std::string& candidate = "blue") {
  return json{
      {"live", candidate == "blue" ? "green" : "blue"},
      {"candidate", candidate},
      {"verdict", verdict},
      {"reasons",
       verdict == "ready" ? json::array() : json::array({"window 3: pageview drift 0.02 > 0.001"})},
      {"windows", json::array()}}
      .dump();
}

TEST(SplitterAdmin, EveryAdminCallNeedsTheToken) {
  SplitterHarness h;
  h.Start();
  for (auto [verb, path] :
       std::vector<std::pair<http::Verb, std::string>>{{http::Verb::get, "/admin/v1/state"},
                                                       {http::Verb::post, "/admin/v1/promote"},
                                                       {http::Verb::post, "/admin/v1/rollback"}}) {
    EXPECT_EQ(h.Admin(verb, path, "{}", "").res.result_int(), 401u) << path;
    EXPECT_EQ(h.Admin(verb, path, "{}", "wrong-token").res.result_int(), 401u) << path;
    EXPECT_EQ(h.Admin(verb, path, "{}", std::string(kAdminToken) + "x").res.result_int(), 401u)
        << path;
  }
  auto st = h.Admin(http::Verb::get, "/admin/v1/state");
  ASSERT_EQ(st.res.result_int(), 200u);
  json j = json::parse(st.res.body());
  EXPECT_EQ(j["live"], "green");
  EXPECT_EQ(j["candidate"], "blue");
  EXPECT_EQ(j["mirror_fraction"], 1.0);
  EXPECT_TRUE(j["changed_at_ms"].is_number());
  EXPECT_EQ(h.Metric(R"(tandem_splitter_admin_requests_total{code="401",endpoint="state"})"), 3);
  EXPECT_EQ(h.Admin(http::Verb::get, "/healthz", "", "").res.result_int(), 200u);
}

TEST(SplitterAdmin, PromoteObeysTheVerdict) {
  SplitterHarness h;
  h.Start();
  h.compare->set_body(Report("not_ready"));
  auto r = h.Admin(http::Verb::post, "/admin/v1/promote", "{}");
  EXPECT_EQ(r.res.result_int(), 409u);
  EXPECT_NE(r.res.body().find("pageview drift"), std::string::npos) << r.res.body();
  h.compare->set_body(Report("insufficient_data"));
  EXPECT_EQ(h.Admin(http::Verb::post, "/admin/v1/promote", "{}").res.result_int(), 409u);
  EXPECT_EQ(json::parse(h.Admin(http::Verb::get, "/admin/v1/state").res.body())["live"], "green");
  EXPECT_GE(h.compare->count(), 2u);

  h.compare->set_body(Report("ready"));
  r = h.Admin(http::Verb::post, "/admin/v1/promote", "{}");
  ASSERT_EQ(r.res.result_int(), 200u) << r.res.body();
  EXPECT_EQ(json::parse(r.res.body())["live"], "blue");
  EXPECT_EQ(h.Metric(R"(tandem_splitter_live{color="blue"})"), 1);

  // Traffic follows the swap: blue answers clients now, green gets the candidate copy.
  auto p = h.Post(R"({"event":"pageview","deviceId":"d","properties":{}})");
  ASSERT_EQ(p.res.result_int(), 202u);
  ASSERT_EQ(h.blue->WaitFor(1), 1u);
  EXPECT_EQ(h.blue->received()[0].header("x-tandem-role"), "live");
  ASSERT_EQ(h.green->WaitFor(1), 1u);
  EXPECT_EQ(h.green->received()[0].header("x-tandem-role"), "candidate");

  // A ready verdict about the wrong candidate (green is the candidate now) does not promote.
  EXPECT_EQ(h.Admin(http::Verb::post, "/admin/v1/promote", "{}").res.result_int(), 409u);

  r = h.Admin(http::Verb::post, "/admin/v1/rollback", "{}");
  ASSERT_EQ(r.res.result_int(), 200u);
  EXPECT_EQ(json::parse(r.res.body())["live"], "green");
}

TEST(SplitterAdmin, PromoteFailsClosedWhenCompareIsUnreachable) {
  SplitterHarness h({.compare_down = true});
  h.Start();
  EXPECT_EQ(h.Admin(http::Verb::post, "/admin/v1/promote", "{}").res.result_int(), 503u);
  EXPECT_EQ(h.Admin(http::Verb::post, "/admin/v1/promote", R"({"force":true})").res.result_int(),
            400u);
  auto r = h.Admin(http::Verb::post, "/admin/v1/promote",
                   R"({"force":true,"reason":"compare is down for maintenance"})");
  ASSERT_EQ(r.res.result_int(), 200u);
  EXPECT_EQ(json::parse(r.res.body())["live"], "blue");
  EXPECT_TRUE(h.proc->WaitForLog(
      "forced promotion: the verdict is not checked", std::chrono::seconds(5),
      [](const json& j) { return j.value("reason", "") == "compare is down for maintenance"; }));
}

TEST(SplitterAdmin, TheLiveColorSurvivesARestart) {
  SplitterHarness h;
  h.Start();
  h.compare->set_body(Report("ready"));
  ASSERT_EQ(h.Admin(http::Verb::post, "/admin/v1/promote", "{}").res.result_int(), 200u);
  ASSERT_EQ(h.Stop(), 0);
  h.Start();
  auto st = json::parse(h.Admin(http::Verb::get, "/admin/v1/state").res.body());
  EXPECT_EQ(st["live"], "blue");
  ASSERT_EQ(h.Post(R"({"event":"x","deviceId":"d","properties":{}})").res.result_int(), 202u);
  ASSERT_EQ(h.blue->WaitFor(1), 1u);
  EXPECT_EQ(h.blue->received()[0].header("x-tandem-role"), "live");
}

TEST(SplitterAdmin, ARetriedRollbackWithExpectLiveSwapsOnce) {
  SplitterHarness h;
  h.Start();
  const std::string body = R"({"expect_live":"green"})";
  auto first = h.Admin(http::Verb::post, "/admin/v1/rollback", body);
  ASSERT_EQ(first.res.result_int(), 200u) << first.res.body();
  EXPECT_EQ(json::parse(first.res.body())["live"], "blue");
  // The same call again (its answer was lost, say): nothing is swapped back.
  auto again = h.Admin(http::Verb::post, "/admin/v1/rollback", body);
  EXPECT_EQ(again.res.result_int(), 409u) << again.res.body();
  EXPECT_EQ(json::parse(again.res.body())["state"]["live"], "blue");
  EXPECT_EQ(json::parse(h.Admin(http::Verb::get, "/admin/v1/state").res.body())["live"], "blue");
  EXPECT_EQ(h.Metric(R"(tandem_splitter_swaps_total{kind="rollback"})"), 1);
  // A forced promotion is guarded the same way.
  EXPECT_EQ(h.Admin(http::Verb::post, "/admin/v1/promote",
                    R"({"force":true,"reason":"r","expect_live":"green"})")
                .res.result_int(),
            409u);
  EXPECT_EQ(h.Admin(http::Verb::post, "/admin/v1/rollback", R"({"expect_live":"purple"})")
                .res.result_int(),
            400u);
}

TEST(SplitterAdmin, ConcurrentRollbacksWithTheSameExpectLiveSwapOnce) {
  SplitterHarness h;
  h.Start();
  std::vector<std::future<unsigned>> calls;
  for (int i = 0; i < 8; ++i) {
    calls.push_back(std::async(std::launch::async, [&h] {
      return h.Admin(http::Verb::post, "/admin/v1/rollback", R"({"expect_live":"green"})")
          .res.result_int();
    }));
  }
  int ok = 0, conflict = 0;
  for (auto& c : calls) {
    unsigned code = c.get();
    ok += code == 200;
    conflict += code == 409;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflict, 7);
  EXPECT_EQ(json::parse(h.Admin(http::Verb::get, "/admin/v1/state").res.body())["live"], "blue");
}

TEST(SplitterAdmin, TheCliSendsExpectLiveSoARepeatedRollbackIsHarmless) {
  SplitterHarness h;
  h.Start();
  // The CLI finds the admin API through the config: give it the port the splitter took.
  TestConfig for_cli = h.config;
  for_cli.admin_listen = "127.0.0.1:" + std::to_string(h.admin_port);
  TempDir cli_dir;
  const std::string cli_config = for_cli.Write(cli_dir.path());
  auto cli = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {TandemBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(argv, {kTokenEnv});
    auto code = p.Wait();
    return std::make_pair(code.value_or(-1), p.Output());
  };
  auto [code, out] = cli({"rollback", "-c", cli_config, "--expect-live", "green"});
  EXPECT_EQ(code, 0) << out;
  // Run again with the same expectation (a retry): it sees the swap is done.
  std::tie(code, out) = cli({"rollback", "-c", cli_config, "--expect-live", "green"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(json::parse(h.Admin(http::Verb::get, "/admin/v1/state").res.body())["live"], "blue");
  EXPECT_EQ(h.Metric(R"(tandem_splitter_swaps_total{kind="rollback"})"), 1);
  EXPECT_TRUE(h.proc->WaitForLog("live color swapped"));
  // Without --expect-live the CLI reads the live color first: a new rollback swaps back.
  std::tie(code, out) = cli({"rollback", "-c", cli_config});
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(json::parse(h.Admin(http::Verb::get, "/admin/v1/state").res.body())["live"], "green");
}

}  // namespace
}  // namespace tandem::testing
