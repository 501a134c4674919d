// `tandem up`: the local stack as children of one supervisor, which restarts a
// crashed child and stops them all on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "common/fetch.h"
#include "tests/support/process.h"
#include "tests/support/stub_upstream.h"
#include "tests/support/test_config.h"

namespace tandem::testing {
namespace {

TEST(Up, RunsTheStackRestartsACrashedChildAndStopsCleanly) {
  TempDir dir;
  uint16_t ingest = ClosedPort(), blue = ClosedPort(), green = ClosedPort();
  TestConfig c;
  c.listen = "127.0.0.1:" + std::to_string(ingest);
  c.admin_listen = "127.0.0.1:" + std::to_string(ClosedPort());
  c.blue.dispatcher_listen = "127.0.0.1:" + std::to_string(blue);
  c.green.dispatcher_listen = "127.0.0.1:" + std::to_string(green);
  std::string cfg = c.Write(dir.path());
  Process up({TandemBinary(), "up", "-c", cfg});

  int splitters = 0;
  auto nth_splitter_listening = [&](int n) {
    splitters = 0;
    return [&, n](const nlohmann::json& j) {
      return j.value("service", "") == "splitter" && ++splitters == n;
    };
  };
  ASSERT_TRUE(up.WaitForLog("listening", std::chrono::seconds(20), nth_splitter_listening(1)))
      << up.Output();
  for (const char* d : {"dispatcher-blue", "dispatcher-green"}) {
    ASSERT_TRUE(up.WaitForLog("listening", std::chrono::seconds(20), [d](const nlohmann::json& j) {
      return j.value("service", "") == d;
    }));
  }
  auto post = [&] {
    return http::FetchWith(http::Verb::post,
                           "http://127.0.0.1:" + std::to_string(ingest) + "/v1/events",
                           R"({"event":"pageview","deviceId":"d","properties":{}})",
                           "application/json", {}, std::chrono::seconds(10));
  };
  auto r = post();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 202u);
  // It says where everything is.
  EXPECT_NE(up.Output().find("POST http://127.0.0.1:" + std::to_string(ingest) + "/v1/events"),
            std::string::npos)
      << up.Output();
  EXPECT_NE(up.Output().find("dispatcher http://127.0.0.1:" + std::to_string(blue)),
            std::string::npos);

  auto started = up.WaitForLog("started", std::chrono::seconds(5), [](const nlohmann::json& j) {
    return j.value("child", "") == "splitter";
  });
  ASSERT_TRUE(started);
  kill((*started)["pid"].get<pid_t>(), SIGKILL);
  ASSERT_TRUE(up.WaitForLog("restarted", std::chrono::seconds(20), [](const nlohmann::json& j) {
    return j.value("child", "") == "splitter";
  }));
  ASSERT_TRUE(up.WaitForLog("listening", std::chrono::seconds(20), nth_splitter_listening(2)))
      << up.Output();
  r = post();
  EXPECT_EQ(r.ec ? 0u : r.res.result_int(), 202u);

  up.Signal(SIGTERM);
  EXPECT_EQ(up.Wait(), 0);
  EXPECT_TRUE(up.WaitForLog("stack stopped", std::chrono::seconds(1)));
}

TEST(Up, SighupReachesEveryChildAndNothingExits) {
  TempDir dir;
  uint16_t ingest = ClosedPort();
  TestConfig c;
  c.listen = "127.0.0.1:" + std::to_string(ingest);
  c.admin_listen = "127.0.0.1:" + std::to_string(ClosedPort());
  c.blue.dispatcher_listen = "127.0.0.1:" + std::to_string(ClosedPort());
  c.green.dispatcher_listen = "127.0.0.1:" + std::to_string(ClosedPort());
  std::string cfg = c.Write(dir.path());
  Process up({TandemBinary(), "up", "-c", cfg});
  ASSERT_TRUE(WaitForStack(up, std::chrono::seconds(20))) << up.Output();

  up.Signal(SIGHUP);
  std::set<std::string> reloaded;
  ASSERT_TRUE(up.WaitForLog("config reloaded", std::chrono::seconds(20),
                            [&](const nlohmann::json& j) {
                              reloaded.insert(j.value("service", ""));
                              return reloaded.size() == 6;
                            }))
      << up.Output();
  EXPECT_EQ(reloaded, (std::set<std::string>{"splitter", "dispatcher-blue", "dispatcher-green",
                                             "trace-blue", "trace-green", "compare"}));
  EXPECT_FALSE(up.Wait(std::chrono::milliseconds(200))) << "tandem up exited";
  EXPECT_EQ(up.Output().find("child exited"), std::string::npos) << up.Output();
  auto r =
      http::FetchWith(http::Verb::post, "http://127.0.0.1:" + std::to_string(ingest) + "/v1/events",
                      R"({"event":"pageview","deviceId":"d","properties":{}})", "application/json",
                      {}, std::chrono::seconds(10));
  EXPECT_EQ(r.ec ? 0u : r.res.result_int(), 202u);
  up.Signal(SIGTERM);
  EXPECT_EQ(up.Wait(), 0);
}

TEST(Cli, AConfigWhereTheColorsShareADatasetIsExit2WithItsPosition) {
  TempDir dir;
  TestConfig c;
  c.green.dataset = "{ kind: sqlite, path: blue.db }";
  std::string cfg = c.Write(dir.path());
  for (std::vector<std::string> args : {std::vector<std::string>{"check-config", cfg},
                                        {"splitter", "-c", cfg},
                                        {"dispatcher", "-c", cfg, "--color", "green"},
                                        {"up", "-c", cfg}}) {
    std::vector<std::string> argv = {TandemBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(argv);
    EXPECT_EQ(p.Wait(), 2) << args[0];
    EXPECT_NE(p.Output().find(cfg + ":"), std::string::npos) << p.Output();
    EXPECT_NE(p.Output().find(": colors.green.dataset: the same dataset as colors.blue.dataset"),
              std::string::npos)
        << p.Output();
  }
}

}  // namespace
}  // namespace tandem::testing
