#include "common/json_member.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "datasets/sqlite_dataset.h"
#include "tests/support/sqlite_json.h"

namespace tandem {
namespace {

std::string SqliteAnswer(SqliteDataset& db, const std::string& body) {
  return testing::SqliteJsonExtract(db, body, "$.event");
}

TEST(PlainTopLevelString, FindsTheEventOfSparrowBodies) {
  EXPECT_EQ(PlainTopLevelString(R"({"event":"pageview","deviceId":"d-1"})", "event"), "pageview");
  EXPECT_EQ(
      PlainTopLevelString(
          " {\n \"deviceId\" : \"d\", \"properties\": {\"event\": \"inner\", \"n\": [1, -2.5e3, "
          "true, null, {}], \"s\": \"a\\\"b\\u00e9\"}, \"event\" :\t\"purchase product\" } ",
          "event"),
      "purchase product");
  EXPECT_EQ(PlainTopLevelString(R"({"event":""})", "event"), "");
  EXPECT_EQ(PlainTopLevelString("{\"event\":\"caf\xc3\xa9\"}", "event"), "caf\xc3\xa9");
}

TEST(PlainTopLevelString, LeavesToSqliteWhatItIsNotSureOf) {
  const char* unsure[] = {
      R"({"deviceId":"d"})",           // absent: NULL, but SQLite says so
      R"({"event":"a\"b"})",           // an escape in the value
      R"({"ev\u0065nt":"a"})",         // an escape in a key
      R"({"event":"a","event":"b"})",  // twice
      R"({"event":5})",                // not a string
      R"({"event":null})",             // null
      R"(["event","a"])",              // not an object
      R"({"event":"a",})",             // trailing comma
      R"({'event':'a'})",              // single quotes
      R"({"event":"a","n":01})",       // leading zero
      R"({"event":"a","n":1.})",       // bare point
      R"({"event":"a","n":.5})",       // no integer part
      R"({"event":"a","n":+1})",       // plus sign
      R"({"event":"a","n":tru})",      // cut literal
      R"({"event":"a"} x)",            // trailing garbage
      R"({"event":"a")",               // unterminated
      R"({"event":"a","s":"\x"})",     // bad escape
      R"({"event":"a","s":"\u12"})",   // short \u
      "{\"event\":\"a\tb\"}",          // a raw control character
      "",                              // empty
  };
  for (const char* body : unsure) {
    EXPECT_EQ(PlainTopLevelString(body, "event"), std::nullopt) << body;
  }
  // SQLite reads up to a NUL (so it would say "a" here); the scan does not guess.
  std::string nul("{\"event\":\"a\"}\0{}", 16);
  EXPECT_EQ(PlainTopLevelString(nul, "event"), std::nullopt);
  // Keys that '$.key' would not name as one member.
  EXPECT_EQ(PlainTopLevelString(R"({"a.b":"x"})", "a.b"), std::nullopt);
  EXPECT_EQ(PlainTopLevelString(R"({"":"x"})", ""), std::nullopt);
  EXPECT_EQ(PlainTopLevelString(R"({"a[0]":"x"})", "a[0]"), std::nullopt);
  std::string deep =
      "{\"event\":\"a\",\"d\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(PlainTopLevelString(deep, "event"), std::nullopt) << "deeper than the scan goes";
  std::string shallow =
      "{\"event\":\"a\",\"d\":" + std::string(60, '[') + std::string(60, ']') + "}";
  EXPECT_EQ(PlainTopLevelString(shallow, "event"), "a");
}

// Differential: whenever the scan answers, SQLite's json_extract gives the same
// text, over bodies mutated at random from real shapes (fixed seed).
TEST(PlainTopLevelString, AgreesWithSqliteWheneverItAnswers) {
  SqliteDataset db(":memory:");
  const std::vector<std::string> seeds = {
      R"({"event":"pageview","deviceId":"d-1","properties":{"path":"/p/1","n":12}})",
      R"({"userId":"u","event":"purchase product","properties":{"price":9.99,"items":[1,2,{"a":null}]}})",
      R"({"event":"signup","properties":{"email":"a@b.c","ok":true,"e":-1.5E+3,"s":"x\"y"}})",
      R"({ "event" : "a b" , "context" : { "event" : "inner" } })",
  };
  std::mt19937 rng(20261129);
  const std::string alphabet = "{}[]\":,\\ \t\nabeventu0123456789.-+eE\x01\x7f\xc3";
  int answered = 0, checked = 0;
  for (int i = 0; i < 6000; ++i) {
    std::string b = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      size_t at = rng() % b.size();
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          b[at] = c;
          break;
        case 1:
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          b.erase(at, 1);
      }
    }
    auto fast = PlainTopLevelString(b, "event");
    ++checked;
    if (!fast) continue;
    ++answered;
    ASSERT_EQ(SqliteAnswer(db, b), "text|" + std::string(*fast)) << b;
  }
  for (const auto& s : seeds) {
    auto fast = PlainTopLevelString(s, "event");
    ASSERT_TRUE(fast) << s;
    EXPECT_EQ(SqliteAnswer(db, s), "text|" + std::string(*fast));
  }
  // The mutations must leave many bodies valid, or the comparison says little.
  EXPECT_GT(answered, checked / 10) << answered << " of " << checked;
}

TEST(IsValidUtf8, AcceptsWellFormedTextAndRefusesWhatAStrictParserRefuses) {
  for (const char* ok :
       {"", "plain ascii text, longer than eight bytes", "caf\xc3\xa9", "\xe2\x82\xac 5",
        "\xf0\x9d\x84\x9e clef", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf last code point"}) {
    EXPECT_TRUE(IsValidUtf8(ok)) << ok;
  }
  for (const char* bad : {"\xff", "abc\x80", "\xc0\x80 overlong NUL", "\xe0\x80\xaf overlong",
                          "\xed\xa0\x80 a surrogate", "\xf4\x90\x80\x80 past U+10FFFF",
                          "truncated \xe2\x82", "0123456789abcdef\xc3"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

}  // namespace
}  // namespace tandem
