// Connections are a budget: a flood of idle connections past the descriptor
// limit must leave new clients, the admin API and the upstreams served.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/metrics_scrape.h"
#include "tests/support/splitter_harness.h"

namespace tandem::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

TEST(SplitterConnections, IdleConnectionsPastTheDescriptorLimitLeaveHealthAndNewClientsServed) {
  // The test itself holds 1,500 sockets.
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_max < 2000) GTEST_SKIP() << "the test needs 2,000 descriptors";
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  SplitterHarness h({.limits = {.open_files = 1024}});
  h.Start();
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> idle;
  for (int i = 0; i < 1500; ++i) {
    auto s = std::make_unique<tcp::socket>(io);
    boost::system::error_code ec;
    s->connect({asio::ip::make_address("127.0.0.1"), h.ingest_port}, ec);
    ASSERT_FALSE(ec) << i << ": " << ec.message();
    idle.push_back(std::move(s));  // connected, never sends a byte
  }
  // The splitter has taken them all in (evicting the oldest as it goes).
  ASSERT_GE(
      WaitForMetricAtLeast(
          h.AdminUrl("/metrics"),
          R"(tandem_splitter_connections_closed_total{listener="ingest",reason="idle_evicted"})",
          1000, std::chrono::seconds(30)),
      1000)
      << h.proc->Output();
  auto health = h.Admin(http::Verb::get, "/healthz", "", "");
  ASSERT_FALSE(health.ec) << health.ec.message();
  EXPECT_EQ(health.res.result_int(), 200u);
  for (int i = 0; i < 20; ++i) {
    auto r = h.Post(R"({"event":"pageview","deviceId":"d","properties":{}})");
    ASSERT_FALSE(r.ec) << i << ": " << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 202u) << r.res.body();
  }
  EXPECT_EQ(h.green->WaitFor(20), 20u);
  EXPECT_EQ(h.blue->WaitFor(20), 20u);
  auto st = h.Admin(http::Verb::get, "/admin/v1/state");
  EXPECT_EQ(st.res.result_int(), 200u);
  EXPECT_LE(ScrapeMetric(h.AdminUrl("/metrics"),
                         R"(tandem_splitter_open_connections{listener="ingest"})"),
            1024);
}

TEST(SplitterConnections, AConnectionThatNeverSendsIsClosedAfterTheFirstByteTimeout) {
  SplitterHarness h({.extra_splitter_yaml = "  first_byte_timeout_ms: 200\n"});
  h.Start();
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), h.ingest_port});
  char c;
  boost::system::error_code ec;
  s.read_some(asio::buffer(&c, 1), ec);  // returns when the splitter closes it
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
  EXPECT_EQ(
      h.WaitForMetric(
          R"(tandem_splitter_connections_closed_total{listener="ingest",reason="first_byte_timeout"})",
          1),
      1);
}

}  // namespace
}  // namespace tandem::testing
