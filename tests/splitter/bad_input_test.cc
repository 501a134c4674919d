// SPEC section 10, the splitter's rows: each bad input gets its answer and a metric,
// and nothing is forwarded.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "tests/support/gzip_encode.h"
#include "tests/support/splitter_harness.h"

namespace tandem::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Writes raw bytes and reads until the server closes; returns what it sent back.
std::string RawExchange(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(bytes));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

class SplitterBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    h = std::make_unique<SplitterHarness>(SplitterHarnessOptions{
        .extra_splitter_yaml = "  max_body_bytes: 1024\n  header_timeout_ms: 300\n  cors_origins: "
                               "[\"https://app.example.com\"]\n"});
    h->Start();
  }
  void TearDown() override {
    EXPECT_EQ(h->green->count(), 0u) << "bad input must never be forwarded";
    EXPECT_EQ(h->blue->count(), 0u);
  }
  double Rejected(const std::string& reason) {
    return h->Metric("tandem_splitter_rejected_total{reason=\"" + reason + "\"}");
  }
  std::unique_ptr<SplitterHarness> h;
};

TEST_F(SplitterBadInput, BodyOverTheLimitIs413) {
  auto r = h->Post(std::string(1025, 'a'));
  EXPECT_EQ(r.res.result_int(), 413u);
  EXPECT_EQ(Rejected("body_too_large"), 1);
}

TEST_F(SplitterBadInput, EmptyBodyIs400) {
  EXPECT_EQ(h->Post("").res.result_int(), 400u);
  EXPECT_EQ(Rejected("empty_body"), 1);
}

TEST_F(SplitterBadInput, WrongContentTypeIs415) {
  EXPECT_EQ(h->Post("{}", "application/x-www-form-urlencoded").res.result_int(), 415u);
  EXPECT_EQ(h->Post("{}", "").res.result_int(), 415u);
  EXPECT_EQ(Rejected("unsupported_media_type"), 2);
}

TEST_F(SplitterBadInput, WrongPathIs404AndWrongMethodIs405) {
  auto r = http::FetchWith(http::Verb::post, h->IngestUrl("/v2/events"), "{}", "application/json",
                           {}, std::chrono::seconds(5));
  EXPECT_EQ(r.res.result_int(), 404u);
  r = http::FetchWith(http::Verb::get, h->IngestUrl("/v1/events"), "", "", {},
                      std::chrono::seconds(5));
  EXPECT_EQ(r.res.result_int(), 405u);
  EXPECT_EQ(r.res[http::Field::allow], "POST, OPTIONS");
  EXPECT_EQ(Rejected("not_found"), 1);
  EXPECT_EQ(Rejected("method_not_allowed"), 1);
}

TEST_F(SplitterBadInput, MalformedHttpIs400) {
  std::string out = RawExchange(
      h->ingest_port, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  out = RawExchange(h->ingest_port, "\x16\x03\x01 not http at all\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_EQ(Rejected("malformed"), 2);
}

TEST_F(SplitterBadInput, SlowHeadersAreCutOffAfterTheHeaderTimeout) {
  // Half a request, then silence: the server closes the connection on its own.
  std::string out =
      RawExchange(h->ingest_port, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Ty");
  EXPECT_EQ(out, "");
  // Beast closes the socket when its timer fires and the session counts the
  // timeout when the read's completion runs just after: the client can see the
  // close first, so wait for the count.
  EXPECT_EQ(h->WaitForMetric("tandem_splitter_rejected_total{reason=\"header_timeout\"}", 1), 1);
}

TEST_F(SplitterBadInput, CorsPreflightOnlyForAllowedOrigins) {
  auto ok = http::FetchWith(
      http::Verb::options, h->IngestUrl(), "", "",
      {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}},
      std::chrono::seconds(5));
  EXPECT_EQ(ok.res.result_int(), 204u);
  EXPECT_EQ(ok.res[http::Field::access_control_allow_origin], "https://app.example.com");
  EXPECT_NE(ok.res[http::Field::access_control_allow_methods].find("POST"), std::string::npos);
  auto no = http::FetchWith(
      http::Verb::options, h->IngestUrl(), "", "",
      {{"Origin", "https://evil.example.com"}, {"Access-Control-Request-Method", "POST"}},
      std::chrono::seconds(5));
  EXPECT_EQ(no.res.result_int(), 403u);
  EXPECT_EQ(no.res[http::Field::access_control_allow_origin], "");
}

TEST_F(SplitterBadInput, ServesTheSdk) {
  auto r = http::FetchWith(http::Verb::get, h->IngestUrl("/sdk/sparrow.js"), "", "", {},
                           std::chrono::seconds(5));
  EXPECT_EQ(r.res.result_int(), 200u);
  EXPECT_NE(r.res.body().find("sparrow"), std::string::npos);
  EXPECT_NE(std::string(r.res[http::Field::content_type]).find("javascript"), std::string::npos);
}

TEST_F(SplitterBadInput, HeadOfTheSdkSendsItsHeadersAndNoBody) {
  // A HEAD answer followed by another answer on the same connection: a body after
  // the HEAD answer would be read as the start of the second.
  std::string out = RawExchange(h->ingest_port,
                                "HEAD /sdk/sparrow.js HTTP/1.1\r\nHost: t\r\n\r\n"
                                "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Length: "), std::string::npos) << out;
  size_t end = out.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(out.substr(end + 4, 12), "HTTP/1.1 404") << out;
}

TEST_F(SplitterBadInput, A413ReachesAClientThatSendsItsWholeBodyFirst) {
  // Like most simple clients, this one writes the whole request (4 MiB against a
  // 1 KiB limit) before it reads: the splitter must read and drop the rest of the
  // body before closing, or the close resets the connection and the 413 is lost.
  asio::io_context io;
  tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), h->ingest_port});
  const size_t size = 4 << 20;
  std::string request =
      "POST /v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(size) + "\r\n\r\n" + std::string(size, 'a');
  boost::system::error_code ec;
  asio::write(sock, asio::buffer(request), ec);
  EXPECT_FALSE(ec) << "the body could not be sent: " << ec.message();
  std::string out;
  char buf[4096];
  while (out.find("\r\n\r\n") == std::string::npos) {
    size_t n = sock.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << "read error: " << ec.message() << "; got: " << out;
}

TEST_F(SplitterBadInput, AGzipBodyThatDecodesPastTheLimitIs413) {
  std::string bomb = Gzip(std::string(10 << 20, '{'));  // 10 MiB of '{' in ~10 KiB
  ASSERT_LT(bomb.size(), 1024u * 20);
  auto r = h->Post(bomb, "application/json", {{"Content-Encoding", "gzip"}});
  // 413 from the wire limit (1 KiB) or from the decoded size: either way, never forwarded.
  EXPECT_EQ(r.res.result_int(), 413u);
  std::string small_bomb = Gzip(std::string(4096, ' '));
  ASSERT_LT(small_bomb.size(), 1024u);
  r = h->Post(small_bomb, "application/json", {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.res.result_int(), 413u) << "4 KiB decoded > 1 KiB limit";
  EXPECT_EQ(Rejected("body_too_large"), 2);
}

TEST_F(SplitterBadInput, OtherContentEncodingsAre415AndBrokenGzipIs400) {
  auto r = h->Post("\x1b\x00", "application/json", {{"Content-Encoding", "br"}});
  EXPECT_EQ(r.res.result_int(), 415u);
  EXPECT_EQ(Rejected("unsupported_encoding"), 1);
  r = h->Post("not gzip at all", "application/json", {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.res.result_int(), 400u);
  EXPECT_EQ(Rejected("bad_encoding"), 1);
}

}  // namespace
}  // namespace tandem::testing
