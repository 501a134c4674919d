// `tandem up`: the local stack as children of one supervisor, which restarts a
// crashed child and stops them all on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

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

}  // namespace
}  // namespace tandem::testing
