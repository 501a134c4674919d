#include "common/url.h"

#include <gtest/gtest.h>

#include "common/host_port.h"

namespace tandem {
namespace {

TEST(Url, SchemesPortsAndTargets) {
  auto u = Url::Parse("http://127.0.0.1:8090");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8090);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->target, "/");
  u = Url::Parse("https://bigquery.googleapis.com/bigquery/v2/projects?x=1");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/bigquery/v2/projects?x=1");
  EXPECT_EQ(u->Origin(), "https://bigquery.googleapis.com");
  EXPECT_EQ(u->HostHeader(), "bigquery.googleapis.com");
  u = Url::Parse("http://[::1]:99/a");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 99);
  EXPECT_EQ(u->HostHeader(), "[::1]:99");
  EXPECT_EQ(Url::Parse("https://h?q=1")->target, "/?q=1");
  EXPECT_FALSE(Url::Parse("ftp://x"));
  EXPECT_FALSE(Url::Parse("http://:80/"));
  EXPECT_FALSE(Url::Parse("http://h:99999/"));
  EXPECT_FALSE(Url::Parse("http://h:/"));
  EXPECT_FALSE(Url::Parse("http://user@h/"));
}

TEST(Url, JoinAppendsToTheBasePath) {
  EXPECT_EQ(Url::Parse("http://127.0.0.1:8090")->Join("/v1/report").ToString(),
            "http://127.0.0.1:8090/v1/report");
  EXPECT_EQ(Url::Parse("https://h/compare/?x=1")->Join("/v1/report").ToString(),
            "https://h/compare/v1/report");
  EXPECT_EQ(Url::Parse("https://h/token")->target, "/token");
}

TEST(HostPort, ParsesAndPrints) {
  auto hp = HostPort::Parse("127.0.0.1:8080");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->ToString(), "127.0.0.1:8080");
  hp = HostPort::Parse("[::1]:0");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->ToString(), "[::1]:0");
  EXPECT_FALSE(HostPort::Parse("localhost"));
  EXPECT_FALSE(HostPort::Parse(":80"));
  EXPECT_FALSE(HostPort::Parse("h:65536"));
}

}  // namespace
}  // namespace tandem
