// The splitter mirrors every accepted request to both colors, and the candidate
// never changes what live clients see.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/ip/tcp.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/generated_datasets.h"
#include "tests/support/gzip_encode.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/splitter_harness.h"

namespace tandem::testing {
namespace {

using json = nlohmann::json;

std::string Event(int i) {
  return json{{"event", "pageview"},
              {"deviceId", "d-" + std::to_string(i)},
              {"properties", {{"path", "/p/" + std::to_string(i)}}}}
      .dump();
}

TEST(SplitterMirror, EveryRequestReachesBothColorsByteIdenticalWithOneId) {
  SplitterHarness h;
  h.Start();
  constexpr int kN = 200;
  std::vector<std::string> sent, ids;
  for (int i = 0; i < kN; ++i) {
    // Odd bodies are not JSON: the splitter forwards bytes, judging them is trace's job.
    std::string body = i % 7 == 3 ? "not json \x01\xff " + std::to_string(i) : Event(i);
    auto r = h.Post(body, i % 2 ? "text/plain;charset=UTF-8" : "application/json",
                    {{"X-Tandem-Id", "forged"},
                     {"X-Tandem-Role", "candidate"},
                     {"X-Forwarded-For", "203.0.113.9"}});
    ASSERT_FALSE(r.ec) << r.ec.message();
    ASSERT_EQ(r.res.result_int(), 202) << r.res.body();
    ids.push_back(json::parse(r.res.body())["id"].get<std::string>());
    sent.push_back(body);
  }
  ASSERT_EQ(h.green->WaitFor(kN), static_cast<size_t>(kN));
  ASSERT_EQ(h.blue->WaitFor(kN), static_cast<size_t>(kN));
  auto live = h.green->received();
  auto cand = h.blue->received();
  ASSERT_EQ(live.size(), static_cast<size_t>(kN));
  ASSERT_EQ(cand.size(), static_cast<size_t>(kN));

  std::map<std::string, const Received*> cand_by_id;
  for (const auto& r : cand) cand_by_id[r.header("x-tandem-id")] = &r;
  std::set<std::string> unique;
  for (int i = 0; i < kN; ++i) {
    const Received& l = live[i];  // one client, one request at a time: arrival order is send order
    EXPECT_EQ(l.body, sent[i]);
    EXPECT_EQ(l.header("x-tandem-id"), ids[i]);
    EXPECT_EQ(l.header("x-tandem-role"), "live");
    EXPECT_EQ(l.target, "/v1/events");
    EXPECT_EQ(l.header("x-forwarded-for"), "203.0.113.9, 127.0.0.1");
    EXPECT_FALSE(l.header("x-tandem-received-at").empty());
    ASSERT_TRUE(cand_by_id.count(ids[i])) << "candidate never got " << ids[i];
    const Received& c = *cand_by_id[ids[i]];
    EXPECT_EQ(c.body, l.body);
    EXPECT_EQ(c.header("x-tandem-role"), "candidate");
    EXPECT_EQ(c.header("x-tandem-received-at"), l.header("x-tandem-received-at"));
    EXPECT_EQ(c.header("content-type"), l.header("content-type"));
    EXPECT_NE(l.header("x-tandem-id").find("forged"), 0u);
    unique.insert(ids[i]);
    if (i > 0) {
      EXPECT_LT(ids[i - 1], ids[i]) << "ids must sort by time";
    }
    EXPECT_EQ(ids[i][14], '7') << "UUIDv7";
  }
  EXPECT_EQ(unique.size(), static_cast<size_t>(kN));
  EXPECT_EQ(
      h.WaitForMetric(
          R"(tandem_splitter_forwarded_total{color="blue",outcome="ok",role="candidate"})", kN),
      kN);
  EXPECT_EQ(h.Metric(R"(tandem_splitter_forwarded_total{color="green",outcome="ok",role="live"})"),
            kN);
  EXPECT_EQ(h.Metric(R"(tandem_splitter_live{color="green"})"), 1);
}

// Sends n events concurrently (8 at a time); returns the statuses.
std::vector<unsigned> Burst(SplitterHarness& h, int n) {
  std::vector<std::future<unsigned>> f;
  std::vector<unsigned> out;
  for (int i = 0; i < n; ++i) {
    f.push_back(std::async(std::launch::async, [&h, i] {
      auto r = h.Post(Event(i));
      return r.ec ? 0u : r.res.result_int();
    }));
    if (f.size() == 8) {
      for (auto& x : f) out.push_back(x.get());
      f.clear();
    }
  }
  for (auto& x : f) out.push_back(x.get());
  return out;
}

TEST(SplitterMirror, CandidateDownChangesNothingForLive) {
  // Copies are parked for candidate_retry_ms, then counted as errors.
  SplitterHarness h({.extra_splitter_yaml = "  candidate_retry_ms: 300\n", .blue_down = true});
  h.Start();
  auto statuses = Burst(h, 100);
  for (unsigned s : statuses) EXPECT_EQ(s, 202u);
  EXPECT_EQ(h.green->count(), 100u);
  EXPECT_EQ(
      h.WaitForMetric(
          R"(tandem_splitter_forwarded_total{color="blue",outcome="error",role="candidate"})", 100),
      100);
}

TEST(SplitterMirror, ACandidateThatComesBackGetsCopiesAgain) {
  SplitterHarness h({.blue_down = true});
  h.Start();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(h.Post(Event(i)).res.result_int(), 202u);
  StubUpstream blue(h.blue_port);
  // The breaker probes within its backoff (at most 2 s); keep sending until a copy lands.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int sent = 20;
  while (blue.count() == 0 && std::chrono::steady_clock::now() < deadline && sent < 100000) {
    ASSERT_EQ(h.Post(Event(sent++)).res.result_int(), 202u);
  }
  EXPECT_GT(blue.count(), 0u);
  EXPECT_EQ(h.green->count(), static_cast<size_t>(sent));
}

std::string IdOf(const http::FetchResult& r) {
  return r.ec ? "" : json::parse(r.res.body(), nullptr, false).value("id", "");
}

TEST(SplitterMirror, ACandidateThatRestartsGetsEveryCopySentWhileItWasDown) {
  // A candidate dispatcher that is down for a moment (a deploy, kill -9 and a
  // restart) must not miss the events of its downtime: the verdict would blame
  // the release for the harness's loss.
  SplitterHarness h({.blue_down = true});
  h.Start();
  std::set<std::string> ids;
  for (int i = 0; i < 60; ++i) {
    auto r = h.Post(Event(i));
    ASSERT_EQ(r.res.result_int(), 202u);
    ids.insert(IdOf(r));
  }
  EXPECT_EQ(h.WaitForMetric(R"(tandem_splitter_candidate_parked{color="blue"})", 60), 60)
      << "every copy the down candidate could not take waits";
  StubUpstream blue(h.blue_port);
  EXPECT_EQ(blue.WaitFor(60, std::chrono::seconds(15)), 60u);
  std::set<std::string> got;
  for (const auto& r : blue.received()) {
    got.insert(r.header("x-tandem-id"));
    EXPECT_EQ(r.header("x-tandem-role"), "candidate");
  }
  EXPECT_EQ(got, ids);
  EXPECT_EQ(
      h.WaitForMetric(
          R"(tandem_splitter_forwarded_total{color="blue",outcome="ok",role="candidate"})", 60),
      60);
  EXPECT_EQ(
      h.Metric(R"(tandem_splitter_forwarded_total{color="blue",outcome="error",role="candidate"})"),
      0);
  EXPECT_GT(h.Metric(R"(tandem_splitter_candidate_retries_total{color="blue"})"), 0);
  EXPECT_EQ(h.WaitForMetric(R"(tandem_splitter_candidate_parked{color="blue"})", 0), 0);
}

TEST(SplitterMirror, ACopyTheCandidateAnswers503IsSentAgainUntilItIsTaken) {
  SplitterHarness h;
  h.blue->set_status(503);  // its spool is full
  h.Start();
  std::set<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.insert(IdOf(h.Post(Event(i))));
  ASSERT_GE(WaitForMetricAtLeast(h.AdminUrl("/metrics"),
                                 R"(tandem_splitter_candidate_retries_total{color="blue"})", 10,
                                 std::chrono::seconds(10)),
            10);
  h.blue->set_status(202);
  EXPECT_EQ(
      h.WaitForMetric(
          R"(tandem_splitter_forwarded_total{color="blue",outcome="ok",role="candidate"})", 10),
      10);
  std::set<std::string> got;
  for (const auto& r : h.blue->received()) got.insert(r.header("x-tandem-id"));
  EXPECT_EQ(got, ids) << "each copy reached the candidate";
  EXPECT_EQ(
      h.Metric(R"(tandem_splitter_forwarded_total{color="blue",outcome="error",role="candidate"})"),
      0);
}

TEST(SplitterMirror, ParkedCopiesStayWithinTheirByteBound) {
  // 4 KiB holds a few parked copies; the rest are shed when they come (and
  // their live copies say so), or counted as errors if a resend finds no room.
  SplitterHarness h({.extra_splitter_yaml = "  candidate_retry_bytes: 4096\n", .blue_down = true});
  h.Start();
  for (int i = 0; i < 30; ++i) ASSERT_EQ(h.Post(Event(i)).res.result_int(), 202u);
  // A probe in flight is neither parked nor ended: look until they add up.
  double parked = 0, errors = 0, shed = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    parked = h.Metric(R"(tandem_splitter_candidate_parked{color="blue"})");
    errors = h.Metric(
        R"(tandem_splitter_forwarded_total{color="blue",outcome="error",role="candidate"})");
    shed = h.Metric(
        R"(tandem_splitter_forwarded_total{color="blue",outcome="shed",role="candidate"})");
  } while (parked + errors + shed != 30 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(parked + errors + shed, 30);
  EXPECT_GT(parked, 0);
  EXPECT_LE(parked, 4096 / 512);
  EXPECT_GT(shed, 0);
  int marked_shed = 0;
  for (const auto& r : h.green->received()) marked_shed += r.header("x-tandem-mirror") == "shed";
  EXPECT_EQ(marked_shed, shed);
}

TEST(SplitterMirror, ACandidateThatWasDownThenSlowGetsCopiesOnceItAnswersInTime) {
  // Down (the breaker opens), then slow while starting (probes time out), then
  // healthy: copies must flow again, whatever happened to the probes.
  SplitterHarness h({.extra_splitter_yaml = "  upstream_timeout_ms: 200\n", .blue_down = true});
  h.Start();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(h.Post(Event(i)).res.result_int(), 202u);
  StubUpstream blue(h.blue_port);
  blue.set_delay(std::chrono::milliseconds(1000));
  int sent = 20;
  // Keep sending until at least two probes reached the slow candidate (and timed out).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (blue.count() < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(h.Post(Event(sent++)).res.result_int(), 202u);
  }
  ASSERT_GE(blue.count(), 2u) << "no probe reached the slow candidate";
  ASSERT_GE(
      h.WaitForMetric(
          R"(tandem_splitter_forwarded_total{color="blue",outcome="timeout",role="candidate"})", 2,
          std::chrono::seconds(5)),
      2);
  blue.set_delay(std::chrono::milliseconds(0));
  size_t before = blue.count();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (blue.count() < before + 50 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(h.Post(Event(sent++)).res.result_int(), 202u);
  }
  EXPECT_GE(blue.count(), before + 50) << "the breaker stayed open";
}

TEST(SplitterMirror, AGzipBodyTravelsDecodedToBothColors) {
  SplitterHarness h;
  h.Start();
  std::string body = Event(1);
  std::string gz = Gzip(body);
  auto r = h.Post(gz, "text/plain", {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.res.result_int(), 202u) << r.res.body();
  ASSERT_EQ(h.green->WaitFor(1), 1u);
  ASSERT_EQ(h.blue->WaitFor(1), 1u);
  for (const auto& got : {h.green->received()[0], h.blue->received()[0]}) {
    EXPECT_EQ(got.body, body);
    EXPECT_EQ(got.header("content-encoding"), "");
  }
}

TEST(SplitterMirror, AReloadThatFailsChangesNothing) {
  SplitterHarness h;
  h.Start();
  // mirror_fraction would apply to ingest, the compare URL to admin: all or nothing.
  h.WriteConfig("  mirror_fraction: 0.0\n");
  h.config.compare_url = "http://";
  h.config_path = h.config.Write(h.dir.path());
  h.proc->Signal(SIGHUP);
  ASSERT_TRUE(h.proc->WaitForLog("reload failed; keeping the running config"));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(h.Post(Event(i)).res.result_int(), 202u);
  EXPECT_EQ(h.blue->WaitFor(20), 20u) << "mirroring kept its running fraction";
  EXPECT_EQ(json::parse(h.Admin(http::Verb::get, "/admin/v1/state").res.body())["mirror_fraction"],
            1.0);
}

TEST(SplitterMirror, CandidateAnswering500ChangesNothingForLive) {
  SplitterHarness h;
  h.blue->set_status(500);
  h.Start();
  auto statuses = Burst(h, 100);
  for (unsigned s : statuses) EXPECT_EQ(s, 202u);
  EXPECT_EQ(h.blue->WaitFor(100), 100u);
  EXPECT_EQ(
      h.WaitForMetric(
          R"(tandem_splitter_forwarded_total{color="blue",outcome="error",role="candidate"})", 100),
      100);
}

TEST(SplitterMirror, HangingCandidateIsShedBeyondItsBoundAndLiveStillAnswers) {
  SplitterHarness h(
      {.extra_splitter_yaml = "  max_inflight_per_color: 4\n  upstream_timeout_ms: 60000\n"});
  h.blue->set_status(0);  // accepts and never answers
  h.Start();
  auto statuses = Burst(h, 100);
  for (unsigned s : statuses) EXPECT_EQ(s, 202u);
  EXPECT_EQ(h.green->count(), 100u);
  EXPECT_EQ(h.blue->WaitFor(4), 4u);
  EXPECT_EQ(
      h.Metric(R"(tandem_splitter_forwarded_total{color="blue",outcome="shed",role="candidate"})"),
      96);
  EXPECT_EQ(h.Metric(R"(tandem_splitter_inflight{color="blue",role="candidate"})"), 4);
  // Live's copies say which candidate copies were shed (raw.mirror), so compare
  // tells "could not keep up" from "lost"; the candidate's say "sent".
  std::map<std::string, int> marks;
  for (const auto& r : h.green->received()) ++marks[r.header("x-tandem-mirror")];
  EXPECT_EQ(marks["shed"], 96);
  EXPECT_EQ(marks["sent"], 4);
  for (const auto& r : h.blue->received()) EXPECT_EQ(r.header("x-tandem-mirror"), "sent");
}

// At its connection cap (connections and their waiting line taken), a slow
// candidate's copies are shed at admission, so live's copies say `shed`, not
// `sent`: compare must not count them as the candidate's losses.
TEST(SplitterMirror, CopiesShedAtTheConnectionCapAreMarkedShedOnTheLiveCopy) {
  SplitterHarness h(
      {.extra_splitter_yaml = "  candidate_max_connections: 2\n  upstream_timeout_ms: 60000\n"});
  h.blue->set_status(0);  // accepts and never answers
  h.Start();
  auto statuses = Burst(h, 100);
  for (unsigned s : statuses) EXPECT_EQ(s, 202u);
  ASSERT_EQ(h.green->WaitFor(100), 100u);
  std::map<std::string, int> marks;
  for (const auto& r : h.green->received()) ++marks[r.header("x-tandem-mirror")];
  EXPECT_GT(marks["shed"], 50);
  EXPECT_EQ(marks["sent"] + marks["shed"], 100);
  EXPECT_EQ(
      h.Metric(R"(tandem_splitter_forwarded_total{color="blue",outcome="shed",role="candidate"})"),
      marks["shed"]);
  // Every copy marked sent is at the candidate or waiting for a connection to it.
  EXPECT_EQ(h.Metric(R"(tandem_splitter_inflight{color="blue",role="candidate"})"), marks["sent"]);
}

// Sampling is by device (SPEC section 4): two splitters of a fleet with the
// same fraction send the candidate exactly the same devices' events, every
// event of each, and exactly the devices the SHA-256 rule picks.
TEST(SplitterMirror, TwoSplittersWithTheSameFractionSampleTheSameWholeDevices) {
  SplitterHarness a({.extra_splitter_yaml = "  mirror_fraction: 0.3\n"}),
      b({.extra_splitter_yaml = "  mirror_fraction: 0.3\n"});
  a.Start();
  b.Start();
  constexpr int kDevices = 200, kPerDevice = 3;
  std::vector<std::string> bodies;
  for (int e = 0; e < kPerDevice; ++e) {
    for (int d = 0; d < kDevices; ++d) {
      json body = {{"event", "pageview"},
                   {"deviceId", "device-" + std::to_string(d)},
                   {"properties", {{"n", e}}}};
      // Escapes and key order must not change a device's fate: the same id,
      // spelled with a \u escape, after the other members.
      if (e == 2 && d % 2 == 0) {
        std::string id = "device-" + std::to_string(d);
        id.replace(0, 1, "\\u0064");  // "d"
        bodies.push_back(R"({"properties":{"n":2},"event":"pageview","deviceId":")" + id + "\"}");
      } else {
        bodies.push_back(body.dump());
      }
    }
  }
  for (SplitterHarness* h : {&a, &b}) {
    for (const auto& body : bodies) ASSERT_EQ(h->Post(body).res.result_int(), 202u);
  }
  std::set<std::string> expected;  // devices the rule picks
  for (int d = 0; d < kDevices; ++d) {
    std::string device = "device-" + std::to_string(d);
    if (DeviceSampled(device, 0.3)) expected.insert(device);
  }
  ASSERT_GT(expected.size(), 30u);
  ASSERT_LT(expected.size(), 90u);
  std::map<std::string, int> seen[2];  // device -> candidate copies, per splitter
  for (int i = 0; i < 2; ++i) {
    SplitterHarness& h = i == 0 ? a : b;
    const size_t n = expected.size() * kPerDevice;
    ASSERT_EQ(h.blue->WaitFor(n), n);
    ASSERT_EQ(h.green->WaitFor(bodies.size()), bodies.size());
    for (const auto& r : h.blue->received())
      ++seen[i][json::parse(r.body)["deviceId"].get<std::string>()];
    for (const auto& r : h.green->received()) {
      std::string device = json::parse(r.body)["deviceId"].get<std::string>();
      EXPECT_EQ(r.header("x-tandem-mirror"), expected.count(device) ? "sent" : "sampled_out")
          << device;
    }
  }
  EXPECT_EQ(seen[0], seen[1]);
  std::set<std::string> devices;
  for (const auto& [device, n] : seen[0]) {
    devices.insert(device);
    EXPECT_EQ(n, kPerDevice) << device << ": every event of a sampled device";
  }
  EXPECT_EQ(devices, expected);
}

TEST(SplitterMirror, MirrorFractionZeroSendsNoCandidateCopies) {
  SplitterHarness h({.extra_splitter_yaml = "  mirror_fraction: 0.0\n"});
  h.Start();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(h.Post(Event(i)).res.result_int(), 202u);
  EXPECT_EQ(h.green->count(), 20u);
  EXPECT_EQ(h.blue->count(), 0u);
}

TEST(SplitterMirror, SighupReloadsMirrorFraction) {
  SplitterHarness h;
  h.Start();
  ASSERT_EQ(h.Post(Event(1)).res.result_int(), 202u);
  ASSERT_EQ(h.blue->WaitFor(1), 1u);
  h.WriteConfig("  mirror_fraction: 0.0\n");
  h.proc->Signal(SIGHUP);
  ASSERT_TRUE(h.proc->WaitForLog("config reloaded"));
  // The reload reaches each worker thread through its queue; one more request per worker flushes
  // it.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(h.Post(Event(i)).res.result_int(), 202u);
  EXPECT_EQ(h.green->count(), 21u);
  EXPECT_EQ(h.blue->count(), 1u);
}

TEST(SplitterMirror, LiveDownAnswers502AndReadyzFails) {
  SplitterHarness h;
  h.Start();
  EXPECT_EQ(h.Admin(http::Verb::get, "/readyz", "", "").res.result_int(), 200u);
  uint16_t green_port = h.green->port();
  h.green.reset();
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    boost::system::error_code ec;
    s.connect({boost::asio::ip::make_address("127.0.0.1"), green_port}, ec);
    ASSERT_TRUE(ec) << "the stand-in still listens";
  }
  auto r = h.Post(Event(1));
  EXPECT_EQ(r.res.result_int(), 502u);
  EXPECT_EQ(h.Admin(http::Verb::get, "/readyz", "", "").res.result_int(), 503u);
}

TEST(SplitterMirror, SigtermLosesNoAcceptedRequest) {
  SplitterHarness h;
  h.green->set_delay(std::chrono::milliseconds(300));
  h.Start();
  std::vector<std::future<http::FetchResult>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::async(std::launch::async, [&h, i] { return h.Post(Event(i)); }));
  }
  ASSERT_EQ(h.green->WaitFor(20), 20u);  // all 20 are in flight at the live dispatcher
  h.proc->Signal(SIGTERM);
  for (auto& c : clients) {
    auto r = c.get();
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 202u);
  }
  EXPECT_EQ(h.proc->Wait(), 0);
  EXPECT_EQ(h.blue->count(), 20u);
}

// SIGTERM while the candidate is down: the drain keeps resending the parked
// copies, so a candidate back within drain_timeout_ms still gets every one.
TEST(SplitterMirror, SigtermSendsParkedCopiesToACandidateBackWithinTheDrain) {
  SplitterHarness h({.extra_splitter_yaml = "  drain_timeout_ms: 20000\n", .blue_down = true});
  h.Start();
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.insert(IdOf(h.Post(Event(i))));
  ASSERT_EQ(h.WaitForMetric(R"(tandem_splitter_candidate_parked{color="blue"})", 20), 20);
  h.proc->Signal(SIGTERM);
  StubUpstream blue(h.blue_port);
  EXPECT_EQ(h.proc->Wait(), 0);
  std::set<std::string> got;
  for (const auto& r : blue.received()) got.insert(r.header("x-tandem-id"));
  EXPECT_EQ(got, ids) << "every parked copy was sent before the splitter exited";
}

// A candidate that stays down: the drain ends at drain_timeout_ms, the splitter
// exits 0 and says how many copies it could not send.
TEST(SplitterMirror, SigtermWithTheCandidateStillDownExitsAfterTheDrainAndSaysWhatItLeft) {
  SplitterHarness h({.extra_splitter_yaml = "  drain_timeout_ms: 1000\n", .blue_down = true});
  h.Start();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(h.Post(Event(i)).res.result_int(), 202u);
  ASSERT_EQ(h.WaitForMetric(R"(tandem_splitter_candidate_parked{color="blue"})", 5), 5);
  h.proc->Signal(SIGTERM);
  EXPECT_EQ(h.proc->Wait(), 0);
  EXPECT_NE(h.proc->Output().find("candidate copies still parked at exit are not sent"),
            std::string::npos)
      << h.proc->Output();
  EXPECT_NE(h.proc->Output().find("\"blue\":5"), std::string::npos) << h.proc->Output();
}

}  // namespace
}  // namespace tandem::testing
