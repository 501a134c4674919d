// The scrubber's scanners on their own: what each replaces, and what it leaves.
#include "pipeline/trace/scrubber.h"

#include <gtest/gtest.h>

#include "pipeline/trace/scrub_scanners.h"

namespace tandem::trace {
namespace {

std::string Scrub(std::string s, const ScrubConfig& config = {}) {
  ScrubCounts counts{};
  Scrubber(config).ScrubString(s, counts);
  return s;
}

TEST(ScrubberTest, ReplacesEachKindWithItsMarker) {
  EXPECT_EQ(Scrub("mail alice@example.com now"), "mail [email] now");
  EXPECT_EQ(Scrub("card 4111-1111-1111-1111."), "card [card].");
  EXPECT_EQ(Scrub("from 10.1.2.3:8080"), "from [ip]:8080");
  EXPECT_EQ(Scrub("v6 2001:db8::1 here"), "v6 [ip] here");
  EXPECT_EQ(Scrub("call +44 20 7946 0958"), "call [phone]");
  EXPECT_EQ(Scrub("call (415) 555-2671"), "call [phone]");
  EXPECT_EQ(Scrub("Authorization: Bearer abc.def-123456"), "Authorization: Bearer [token]");
  EXPECT_EQ(Scrub("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_x"), "t=[jwt]");
  EXPECT_EQ(Scrub("key sk_live_4eC39HqLyjWDarjtT1zdp7dc"), "key [secret]");
  EXPECT_EQ(Scrub("password=hunter2 ok"), "password=[secret] ok");
}

TEST(ScrubberTest, UrlsKeepOnlyAllowedQueryParameters) {
  EXPECT_EQ(Scrub("https://a.example/p?utm_source=x&token=abc&lang=en#frag"),
            "https://a.example/p?utm_source=x&lang=en");
  EXPECT_EQ(Scrub("https://u:pw@a.example/p"), "https://a.example/p");
  EXPECT_EQ(Scrub("/checkout?session=abc"), "/checkout");
  EXPECT_EQ(Scrub("see https://a.example/?q=1 and https://b.example/?ref=2 ok"),
            "see https://a.example/ and https://b.example/?ref=2 ok");
}

TEST(ScrubberTest, LeavesLookalikesAlone) {
  for (std::string clean :
       {"Order 12345", "version 2.3.1", "2026-11-28", "12:30:45", "price 19.99", "1764323791000",
        "std::vector", "0190a1b2-c3d4-7e5f-8a9b-000000000001", "user@localhost",
        "4111 1111 1111 1112", "00:1A:2B:3C:4D:5E", "purchase product", "a-b-c"}) {
    EXPECT_EQ(Scrub(clean), clean) << clean;
  }
}

TEST(ScrubberTest, CapsValueLengthOnACharacterBoundary) {
  ScrubConfig c;
  c.max_value_length = 5;
  EXPECT_EQ(Scrub("abcdefgh", c), "abcde");
  EXPECT_EQ(Scrub("abcd\xC3\xA9xyz", c), "abcd");  // never half of "é"
}

TEST(ScrubberTest, RulesCanBeSwitchedOff) {
  ScrubConfig c;
  c.emails = false;
  EXPECT_EQ(Scrub("alice@example.com", c), "alice@example.com");
}

TEST(ScrubberTest, CountsEachRuleOncePerValue) {
  ScrubCounts counts{};
  std::string s = "a@b.co c@d.co 4111111111111111";
  Scrubber(ScrubConfig{}).ScrubString(s, counts);
  EXPECT_EQ(counts[static_cast<size_t>(ScrubRule::kEmail)], 1u);
  EXPECT_EQ(counts[static_cast<size_t>(ScrubRule::kCard)], 1u);
}

TEST(ScrubberTest, JsonNumbersThatAreCardsAndDeepValuesAreCleaned) {
  nlohmann::json v = {{"n", 4111111111111111ull}, {"ok", 42}, {"k@x.io", "v"}};
  ScrubCounts counts{};
  Scrubber(ScrubConfig{}).ScrubJson(v, counts);
  EXPECT_EQ(v["n"], "[card]");
  EXPECT_EQ(v["ok"], 42);
  EXPECT_TRUE(v.contains("[email]"));
  nlohmann::json deep = "x";
  for (int i = 0; i < 40; ++i) deep = nlohmann::json::array({deep});
  Scrubber(ScrubConfig{}).ScrubJson(deep, counts);
  EXPECT_NE(deep.dump().find("[too deep]"), std::string::npos);
}

TEST(ScrubberTest, AnonymizesClientAddresses) {
  EXPECT_EQ(AnonymizeIp("203.0.113.77"), "203.0.113.0");
  EXPECT_EQ(AnonymizeIp("2001:db8:1234:5678::42"), "2001:db8:1234::");
  EXPECT_EQ(AnonymizeIp("not an ip"), "");
}

TEST(ScrubberTest, LuhnChecks) {
  EXPECT_TRUE(scan::LuhnValid("4111111111111111"));
  EXPECT_FALSE(scan::LuhnValid("4111111111111112"));
}

}  // namespace
}  // namespace tandem::trace
