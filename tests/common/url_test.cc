#include <gtest/gtest.h>

#include "common/http_client.h"

namespace tandem::http {
namespace {

TEST(ParseUrl, SchemesPortsAndTargets) {
  Upstream u;
  std::string t;
  ASSERT_TRUE(ParseUrl("http://127.0.0.1:8090", u, t));
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8090);
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(t, "/");
  ASSERT_TRUE(ParseUrl("https://bigquery.googleapis.com/bigquery/v2/projects?x=1", u, t));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(t, "/bigquery/v2/projects?x=1");
  ASSERT_TRUE(ParseUrl("http://[::1]:99/a", u, t));
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 99);
  EXPECT_FALSE(ParseUrl("ftp://x", u, t));
  EXPECT_FALSE(ParseUrl("http://:80/", u, t));
  EXPECT_FALSE(ParseUrl("http://h:99999/", u, t));
}

}  // namespace
}  // namespace tandem::http
