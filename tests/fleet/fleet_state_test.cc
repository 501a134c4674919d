// A fleet of splitters sharing the live color through a real 3-member etcd
// cluster on loopback (issue 10): promotions followed by every splitter,
// concurrent swaps that swap once, a leader that dies, and every member down
// (fail static) and back.
#include <gtest/gtest.h>
#include <signal.h>

#include <future>
#include <nlohmann/json.hpp>

#include "tests/support/etcd_cluster.h"
#include "tests/support/process.h"
#include "tests/support/splitter_harness.h"
#include "tests/support/stub_upstream.h"
#include "tests/support/test_config.h"

namespace tandem::testing {
namespace {

using json = nlohmann::json;
constexpr const char* kEvent = R"({"event":"pageview","deviceId":"d-1","properties":{}})";

struct Fleet {
  explicit Fleet(int splitters = 3) {
    if (OnPath("etcd").empty()) return;
    etcd = std::make_unique<EtcdCluster>(3);
    for (int i = 0; i < splitters; ++i) {
      auto s = std::make_unique<SplitterHarness>(
          SplitterHarnessOptions{.extra_splitter_yaml = etcd->SplitterYaml()});
      s->Start();
      members.push_back(std::move(s));
    }
  }
  json State(int i) {
    auto r = members[i]->Admin(http::Verb::get, "/admin/v1/state");
    return r.ec ? json() : json::parse(r.res.body(), nullptr, false);
  }
  std::string Live(int i) {
    json j = State(i);
    return j.is_object() ? j.value("live", "") : "";
  }
  // Whether every splitter routes by `live` within `limit`.
  bool AllFollow(const std::string& live, std::chrono::milliseconds limit) {
    return PollUntil(
        [&] {
          for (size_t i = 0; i < members.size(); ++i) {
            if (Live(static_cast<int>(i)) != live) return false;
          }
          return true;
        },
        limit);
  }
  unsigned Rollback(int i, const std::string& expect_live) {
    auto r = members[i]->Admin(http::Verb::post, "/admin/v1/rollback",
                               json{{"expect_live", expect_live}}.dump());
    return r.ec ? 0 : r.res.result_int();
  }
  // A forced promotion (the stand-in compare has no verdict): the same swap path.
  unsigned Promote(int i, const std::string& expect_live) {
    auto r = members[i]->Admin(
        http::Verb::post, "/admin/v1/promote",
        json{{"force", true}, {"reason", "fleet test"}, {"expect_live", expect_live}}.dump());
    return r.ec ? 0 : r.res.result_int();
  }
  double Swaps(const char* kind) {
    double n = 0;
    for (auto& m : members) {
      double v = m->Metric(std::string("tandem_splitter_swaps_total{kind=\"") + kind + "\"}");
      n += v < 0 ? 0 : v;
    }
    return n;
  }
  std::unique_ptr<EtcdCluster> etcd;
  std::vector<std::unique_ptr<SplitterHarness>> members;
};

#define SKIP_WITHOUT_ETCD() \
  if (OnPath("etcd").empty()) GTEST_SKIP() << "etcd-server is not installed (scripts/deps.sh)"

TEST(Fleet, APromotionThroughOneSplitterIsFollowedByTheOthersWithinASecond) {
  SKIP_WITHOUT_ETCD();
  Fleet f;
  ASSERT_TRUE(f.AllFollow("green", std::chrono::seconds(5)));  // initial_live, created once
  json before = f.State(1);
  EXPECT_EQ(before["store"]["kind"], "etcd");
  EXPECT_TRUE(before["store"]["reachable"].get<bool>());
  ASSERT_EQ(f.Promote(0, "green"), 200u);
  // The watch carries it: well within a second (the re-read every 2 s would not).
  EXPECT_TRUE(f.AllFollow("blue", std::chrono::seconds(1)));
  EXPECT_GT(f.State(2)["store"]["revision"].get<int64_t>(),
            before["store"]["revision"].get<int64_t>());
  // And traffic follows: splitter 2 now answers from blue's dispatcher.
  size_t blue_before = f.members[2]->blue->count();
  auto r = f.members[2]->Post(kEvent);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 202u);
  EXPECT_GT(f.members[2]->blue->WaitFor(blue_before + 1), blue_before);
}

TEST(Fleet, StatusShowsEverySplittersViewAndTheStoresRevision) {
  SKIP_WITHOUT_ETCD();
  Fleet f(2);
  ASSERT_EQ(f.Rollback(0, "green"), 200u);
  ASSERT_TRUE(f.AllFollow("blue", std::chrono::seconds(5)));
  // The CLI reads splitter 0's config, with its real admin port.
  TempDir cli;
  TestConfig c = f.members[0]->config;
  c.admin_listen = "127.0.0.1:" + std::to_string(f.members[0]->admin_port);
  std::string cfg = c.Write(cli.path());
  std::vector<std::string> argv = {TandemBinary(), "status", "-c", cfg};
  for (auto& m : f.members) {
    argv.push_back("--admin");
    argv.push_back("127.0.0.1:" + std::to_string(m->admin_port));
  }
  Process status(argv, {kTokenEnv});
  ASSERT_EQ(status.Wait(), 0) << status.Output();
  std::string out = status.Output();
  EXPECT_NE(out.find("live:       blue"), std::string::npos) << out;
  EXPECT_NE(out.find("state:      etcd, revision "), std::string::npos) << out;
  EXPECT_NE(out.find("every splitter routes by the same live color"), std::string::npos) << out;
  for (auto& m : f.members) {
    EXPECT_NE(out.find("127.0.0.1:" + std::to_string(m->admin_port) + "  live blue"),
              std::string::npos)
        << out;
  }
}

TEST(Fleet, TwoConcurrentRollbacksWithOneExpectLiveSwapOnce) {
  SKIP_WITHOUT_ETCD();
  Fleet f;
  ASSERT_TRUE(f.AllFollow("green", std::chrono::seconds(5)));
  for (int round = 0; round < 5; ++round) {
    std::string from = round % 2 == 0 ? "green" : "blue";
    std::string to = round % 2 == 0 ? "blue" : "green";
    auto a = std::async(std::launch::async, [&] { return f.Rollback(0, from); });
    auto b = std::async(std::launch::async, [&] { return f.Rollback(1, from); });
    unsigned sa = a.get(), sb = b.get();
    EXPECT_EQ(std::min(sa, sb), 200u) << "round " << round;
    EXPECT_EQ(std::max(sa, sb), 409u) << "round " << round;
    ASSERT_TRUE(f.AllFollow(to, std::chrono::seconds(2))) << "round " << round;
  }
  EXPECT_EQ(f.Swaps("rollback"), 5);
}

TEST(Fleet, WithTheLeaderKilledAPromotionStillSucceeds) {
  SKIP_WITHOUT_ETCD();
  Fleet f;
  ASSERT_TRUE(f.AllFollow("green", std::chrono::seconds(5)));
  int leader = f.etcd->Leader();
  ASSERT_GE(leader, 0);
  f.etcd->Kill(leader);
  EXPECT_EQ(f.Promote(0, "green"), 200u) << f.members[0]->proc->Output();
  EXPECT_TRUE(f.AllFollow("blue", std::chrono::seconds(5)));
}

TEST(Fleet, WithEveryMemberDownSplittersRouteByTheLastStateAndPromotionsAnswer503) {
  SKIP_WITHOUT_ETCD();
  Fleet f(2);
  ASSERT_EQ(f.Rollback(0, "green"), 200u);
  ASSERT_TRUE(f.AllFollow("blue", std::chrono::seconds(5)));
  for (int i = 0; i < 3; ++i) f.etcd->Kill(i);

  // Swaps are refused, never made locally.
  EXPECT_EQ(f.Promote(1, "blue"), 503u);
  EXPECT_EQ(f.Rollback(0, "blue"), 503u);
  EXPECT_EQ(f.Live(0), "blue");
  EXPECT_EQ(f.Live(1), "blue");
  // The store says so, and since when.
  ASSERT_TRUE(PollUntil([&] { return f.State(0)["store"].value("reachable", true) == false; },
                        std::chrono::seconds(10)));
  EXPECT_GT(f.State(0)["store"]["unreachable_since_ms"].get<int64_t>(), 0);
  EXPECT_EQ(f.members[0]->WaitForMetric("tandem_splitter_store_reachable", 0), 0);
  // Traffic still flows to the last live color.
  size_t blue_before = f.members[0]->blue->count();
  auto r = f.members[0]->Post(kEvent);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 202u);
  EXPECT_GT(f.members[0]->blue->WaitFor(blue_before + 1), blue_before);

  // A restart with etcd still down routes by the cached state_file.
  ASSERT_EQ(f.members[1]->Stop(), 0);
  f.members[1]->Start();
  EXPECT_EQ(f.Live(1), "blue");
  EXPECT_FALSE(f.State(1)["store"].value("reachable", true));
  size_t blue_before_1 = f.members[1]->blue->count();
  r = f.members[1]->Post(kEvent);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 202u);
  EXPECT_GT(f.members[1]->blue->WaitFor(blue_before_1 + 1), blue_before_1);

  // etcd back: the fleet can be swapped again, and both follow.
  for (int i = 0; i < 3; ++i) f.etcd->Start(i);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.etcd->WaitHealthy(i));
  ASSERT_TRUE(PollUntil([&] { return f.State(1)["store"].value("reachable", false); },
                        std::chrono::seconds(15)));
  EXPECT_EQ(f.Promote(1, "blue"), 200u);
  EXPECT_TRUE(f.AllFollow("green", std::chrono::seconds(5)));
}

TEST(Fleet, AMemberThatNeverAnswersIsSkippedForCallsAndTheWatch) {
  SKIP_WITHOUT_ETCD();
  Fleet f(1);
  // A hung member (it accepts connections and answers nothing) listed first.
  StubUpstream hung;
  hung.set_status(0);
  std::string yaml = f.etcd->SplitterYaml();
  yaml.replace(yaml.find("endpoints: ["), 12, "endpoints: [\"http://" + hung.address() + "\", ");
  auto s = std::make_unique<SplitterHarness>(SplitterHarnessOptions{.extra_splitter_yaml = yaml});
  s->Start();
  f.members.push_back(std::move(s));
  // Its swaps go through another member.
  ASSERT_EQ(f.Promote(1, "green"), 200u) << f.members[1]->proc->Output();
  ASSERT_TRUE(f.AllFollow("blue", std::chrono::seconds(5)));
  // And it follows a swap made elsewhere (its watch moved off the hung member).
  ASSERT_EQ(f.Rollback(0, "blue"), 200u);
  EXPECT_TRUE(f.AllFollow("green", std::chrono::seconds(5)));
  EXPECT_GT(hung.count(), 0u);  // it was tried
}

TEST(Fleet, AfterACompactionNewSplittersStillFollowByTheWatch) {
  SKIP_WITHOUT_ETCD();
  Fleet f(1);
  // Other keys move the store's revision far past the state key's, then the
  // history is compacted: a watch from the state key's own revision is refused.
  for (int i = 0; i < 10; ++i) f.etcd->Put("/tandem/test/other", std::to_string(i));
  f.etcd->Compact();
  auto joined = std::make_unique<SplitterHarness>(
      SplitterHarnessOptions{.extra_splitter_yaml = f.etcd->SplitterYaml()});
  joined->Start();
  f.members.push_back(std::move(joined));
  // Each swap reaches the newcomer within a second (the watch, not the 2 s re-read).
  std::string live = "green";
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(f.Rollback(0, live), 200u);
    live = live == "green" ? "blue" : "green";
    EXPECT_TRUE(f.AllFollow(live, std::chrono::seconds(1))) << "round " << round;
  }
  // Its watch held: it was not refused and replaced by re-reads.
  EXPECT_EQ(f.members[1]->proc->Output().find("the etcd watch ended"), std::string::npos)
      << f.members[1]->proc->Output();
}

TEST(Fleet, AKeyThatHoldsNoStateRefusesSwapsAndNewcomersWithoutACache) {
  SKIP_WITHOUT_ETCD();
  Fleet f(1);
  f.etcd->Put("/tandem/state", "not a state");
  auto r =
      f.members[0]->Admin(http::Verb::post, "/admin/v1/rollback", R"({"expect_live":"green"})");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 500u);
  EXPECT_NE(r.res.body().find("holds no splitter state"), std::string::npos) << r.res.body();
  EXPECT_EQ(f.Live(0), "green");  // routing goes on by the last good state
  SplitterHarness fresh(SplitterHarnessOptions{.extra_splitter_yaml = f.etcd->SplitterYaml()});
  Process p({TandemBinary(), "splitter", "-c", fresh.config_path}, {kTokenEnv});
  auto code = p.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_NE(p.Output().find("holds no splitter state"), std::string::npos) << p.Output();
}

TEST(Fleet, SigtermDuringASwapThatWaitsForEtcdExitsCleanly) {
  SKIP_WITHOUT_ETCD();
  Fleet f(1);
  for (int i = 0; i < 3; ++i) f.etcd->Kill(i);
  // The swap rides out what could be an election for a few seconds.
  auto swap = std::async(std::launch::async, [&] { return f.Rollback(0, "green"); });
  ASSERT_TRUE(
      f.members[0]->proc->WaitForLog("state store: etcd unreachable; routing by the last "
                                     "state seen, swaps refused"));
  f.members[0]->proc->Signal(SIGTERM);
  EXPECT_EQ(f.members[0]->proc->Wait(), 0) << f.members[0]->proc->Output();
  unsigned status = swap.get();
  EXPECT_TRUE(status == 503u || status == 0u) << status;
}

TEST(Fleet, ASplitterThatCannotReachEtcdAndHasNoCacheRefusesToStart) {
  SKIP_WITHOUT_ETCD();
  SplitterHarness s(SplitterHarnessOptions{
      .extra_splitter_yaml =
          "  etcd:\n    endpoints: [\"http://127.0.0.1:" + std::to_string(ClosedPort()) + "\"]\n"});
  Process p({TandemBinary(), "splitter", "-c", s.config_path}, {kTokenEnv});
  auto code = p.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_NE(p.Output().find("refusing to guess the live color"), std::string::npos) << p.Output();
}

}  // namespace
}  // namespace tandem::testing
