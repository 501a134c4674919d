// The keep-alive client pool against a real server on loopback.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>

#include "common/http_client.h"
#include "common/sync_client.h"
#include "common/url.h"
#include "tests/support/https_stub.h"
#include "tests/support/stub_upstream.h"
#include "tests/support/test_pki.h"

namespace tandem::http {
namespace {

Request Post(int i) {
  Request r{Verb::post, "/v1/events", 11};
  r.set(Field::content_type, "application/json");
  r.set("X-Tandem-Id", std::to_string(i));
  r.body() = "{}";
  return r;
}

TEST(ClientPool, ReusesKeepAliveConnections) {
  testing::StubUpstream stub;
  boost::asio::io_context io;
  auto pool = ClientPool::Create(io, Upstream{"127.0.0.1", stub.port()});
  int ok = 0;
  std::function<void(int)> next = [&](int i) {
    if (i == 50) return;
    pool->Send(Post(i), std::chrono::seconds(5),
               [&, i](boost::system::error_code ec, Response&& res) {
                 if (!ec && res.result_int() == 202 &&
                     res.body() == "{\"id\":\"" + std::to_string(i) + "\"}")
                   ++ok;
                 next(i + 1);
               });
  };
  next(0);
  io.run();
  EXPECT_EQ(ok, 50);
  EXPECT_EQ(pool->open(), 1u);  // one request at a time: one connection, reused
}

TEST(ClientPool, CapsConnectionsAndServesWaitersInOrder) {
  testing::StubUpstream stub;
  stub.set_delay(std::chrono::milliseconds(20));
  boost::asio::io_context io;
  auto pool = ClientPool::Create(io, Upstream{"127.0.0.1", stub.port()}, {.max_connections = 2});
  std::vector<int> done;
  size_t max_open = 0;
  for (int i = 0; i < 10; ++i) {
    pool->Send(Post(i), std::chrono::seconds(10),
               [&, i](boost::system::error_code ec, Response&& res) {
                 EXPECT_FALSE(ec) << ec.message();
                 done.push_back(i);
                 max_open = std::max(max_open, pool->open());
               });
    max_open = std::max(max_open, pool->open());
  }
  EXPECT_EQ(pool->waiting(), 8u);
  io.run();
  ASSERT_EQ(done.size(), 10u);
  EXPECT_LE(max_open, 2u);
  EXPECT_EQ(stub.count(), 10u);
}

TEST(ClientPool, WaitersPastTheirDeadlineTimeOut) {
  testing::StubUpstream stub;
  stub.set_status(0);  // never answers
  boost::asio::io_context io;
  auto pool = ClientPool::Create(io, Upstream{"127.0.0.1", stub.port()}, {.max_connections = 1});
  int timeouts = 0;
  for (int i = 0; i < 3; ++i) {
    pool->Send(Post(i), std::chrono::milliseconds(100),
               [&](boost::system::error_code ec, Response&&) {
                 if (ec == boost::beast::error::timeout) ++timeouts;
               });
  }
  io.run();
  EXPECT_EQ(timeouts, 3);
  EXPECT_EQ(pool->open(), 0u);
}

TEST(ClientPool, RefusedConnectionIsAnError) {
  boost::asio::io_context io;
  auto pool = ClientPool::Create(io, Upstream{"127.0.0.1", testing::ClosedPort()});
  boost::system::error_code got;
  pool->Send(Post(1), std::chrono::seconds(5),
             [&](boost::system::error_code ec, Response&&) { got = ec; });
  io.run();
  EXPECT_TRUE(got);
  EXPECT_NE(got, boost::beast::error::timeout);
  EXPECT_EQ(pool->open(), 0u);
}

}  // namespace
}  // namespace tandem::http

namespace tandem::http {
namespace {

TEST(ClientPool, BeyondConnectionsAndWaitersRequestsAreRefusedAtOnce) {
  testing::StubUpstream stub;
  stub.set_status(0);  // never answers: both slots stay busy
  boost::asio::io_context io;
  auto pool = ClientPool::Create(io, Upstream{"127.0.0.1", stub.port()},
                                 {.max_connections = 1, .max_waiting = 1});
  int full = 0, timeouts = 0;
  for (int i = 0; i < 5; ++i) {
    pool->Send(Post(i), std::chrono::milliseconds(200),
               [&](boost::system::error_code ec, Response&&) {
                 if (ec == kPoolFull) ++full;
                 if (ec == boost::beast::error::timeout) ++timeouts;
               });
  }
  io.run();
  EXPECT_EQ(full, 3);
  EXPECT_EQ(timeouts, 2);
}

// Bodies larger than one TLS record and than one write step (a BigQuery
// insertAll of thousands of rows) arrive whole, on either side of the size
// where the client stops copying the body behind the head.
TEST(ClientPool, LargeBodiesArriveWholeOverTls) {
  testing::TestPki pki;
  testing::HttpsStub stub(pki, [](const Request& req) {
    Response res{Status::ok, 11};
    res.body() = std::to_string(req.body().size());
    return res;
  });
  SyncClient client(*Url::Parse("https://127.0.0.1:" + std::to_string(stub.port())), pki.ca_cert);
  for (size_t size :
       {size_t{100}, size_t{17} << 10, size_t{64} << 10, size_t{70} << 10, size_t{900} << 10}) {
    Request req{Verb::post, "/upload", 11};
    req.body() = std::string(size, 'x');
    SyncResult r = client.Send(std::move(req), std::chrono::seconds(20));
    ASSERT_FALSE(r.ec) << size << ": " << r.ec.message();
    EXPECT_EQ(r.res.body(), std::to_string(size));
  }
}

}  // namespace
}  // namespace tandem::http
