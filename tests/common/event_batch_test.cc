#include "common/event_batch.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

std::string TwoEvents() {
  std::string out;
  EXPECT_TRUE(AppendBatchedEvent(out, {{"X-Tandem-Id", "id-1"}, {"User-Agent", "Mozilla/5.0"}},
                                 R"({"event":"pageview"})"));
  // Bodies are bytes: NUL, invalid UTF-8, nothing at all.
  EXPECT_TRUE(AppendBatchedEvent(out, {{"x-tandem-id", "id-2"}, {"X-Tandem-Redelivery", "1"}},
                                 std::string("\xff\x00\xfe", 3)));
  EXPECT_TRUE(AppendBatchedEvent(out, {}, ""));
  return out;
}

TEST(EventBatch, EventsComeBackAsTheyWereWritten) {
  std::string bytes = TwoEvents();
  std::vector<BatchedEvent> events;
  std::string error;
  ASSERT_TRUE(ParseEventBatch(bytes, events, error)) << error;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].header("X-Tandem-Id"), "id-1");
  EXPECT_EQ(events[0].header("user-agent"), "Mozilla/5.0");
  EXPECT_EQ(events[0].header("X-Tandem-Redelivery"), "");
  EXPECT_EQ(events[0].body, R"({"event":"pageview"})");
  EXPECT_EQ(events[1].header("X-Tandem-Id"), "id-2") << "names match in any case";
  EXPECT_EQ(events[1].header("X-Tandem-Redelivery"), "1");
  EXPECT_EQ(events[1].body, std::string("\xff\x00\xfe", 3));
  EXPECT_TRUE(events[2].headers.empty());
  EXPECT_TRUE(events[2].body.empty());
}

TEST(EventBatch, EveryCutOffBatchIsRefusedWithAReason) {
  std::string bytes = TwoEvents();
  // Cut anywhere but at an event's end, the batch is malformed. (Cuts at an
  // event's end are whole batches of fewer events: the HTTP body length guards those.)
  std::vector<size_t> ends;
  {
    std::string one;
    ASSERT_TRUE(AppendBatchedEvent(one, {{"X-Tandem-Id", "id-1"}, {"User-Agent", "Mozilla/5.0"}},
                                   R"({"event":"pageview"})"));
    ends.push_back(one.size());
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<BatchedEvent> events;
    std::string error;
    bool ok = ParseEventBatch(std::string_view(bytes).substr(0, n), events, error);
    if (n == ends[0]) {
      EXPECT_TRUE(ok) << n;
      continue;
    }
    if (ok) {
      // Only at the end of the second event (the third is empty: 6 bytes).
      EXPECT_EQ(n, bytes.size() - 6) << n;
      continue;
    }
    EXPECT_FALSE(error.empty()) << n;
  }
}

TEST(EventBatch, LengthsPastTheLimitsOrTheBytesAreRefused) {
  std::vector<BatchedEvent> events;
  std::string error;
  EXPECT_FALSE(ParseEventBatch("", events, error));
  EXPECT_FALSE(ParseEventBatch("TNDB1\n", events, error)) << "an empty batch";
  EXPECT_FALSE(ParseEventBatch("POST / HTTP/1.1", events, error));
  EXPECT_NE(error.find("TNDB1"), std::string::npos);
  // 65 headers.
  std::string many = std::string("TNDB1\n") + std::string("\x41\x00", 2);
  EXPECT_FALSE(ParseEventBatch(many, events, error));
  EXPECT_NE(error.find("header count"), std::string::npos) << error;
  // A body length of 4 GiB - 1 over 3 bytes.
  std::string huge = std::string("TNDB1\n") + std::string("\x00\x00\xff\xff\xff\xff", 6) + "abc";
  EXPECT_FALSE(ParseEventBatch(huge, events, error));
  EXPECT_NE(error.find("body is cut off"), std::string::npos) << error;
  // An empty header name.
  std::string unnamed = std::string("TNDB1\n") + std::string("\x01\x00\x00\x00", 4);
  EXPECT_FALSE(ParseEventBatch(unnamed, events, error));
}

TEST(EventBatch, AnEventTheParserWouldRefuseIsNeverWritten) {
  std::string out = "kept";
  std::vector<BatchHeader> many(kMaxBatchHeaders + 1, {"X-Name", "v"});
  EXPECT_FALSE(AppendBatchedEvent(out, many, "body"));
  std::string long_name(kMaxBatchHeaderName + 1, 'x');
  EXPECT_FALSE(AppendBatchedEvent(out, {{long_name, "v"}}, "body"));
  EXPECT_FALSE(AppendBatchedEvent(out, {{"", "v"}}, "body"));
  EXPECT_EQ(out, "kept");
  // At the limits, written and read back.
  out.clear();
  many.pop_back();
  ASSERT_TRUE(AppendBatchedEvent(out, many, "body"));
  ASSERT_TRUE(AppendBatchedEvent(out, {{std::string(kMaxBatchHeaderName, 'x'), "v"}}, "body"));
  std::vector<BatchedEvent> events;
  std::string error;
  ASSERT_TRUE(ParseEventBatch(out, events, error)) << error;
  EXPECT_EQ(events[0].headers.size(), kMaxBatchHeaders);
  EXPECT_EQ(events[1].headers[0].first.size(), kMaxBatchHeaderName);
}

TEST(EventBatch, AnswersCarryOneStatusPerEvent) {
  EXPECT_EQ(EncodeBatchAnswer({200, 400, 503}), R"({"status":[200,400,503]})");
  std::vector<unsigned> s;
  ASSERT_TRUE(ParseBatchAnswer(R"({"status":[200,400,503]})", 3, s));
  EXPECT_EQ(s, (std::vector<unsigned>{200, 400, 503}));
  EXPECT_FALSE(ParseBatchAnswer(R"({"status":[200,400]})", 3, s)) << "too few";
  EXPECT_FALSE(ParseBatchAnswer(R"({"status":[200,400,503,200]})", 3, s)) << "too many";
  EXPECT_FALSE(ParseBatchAnswer(R"({"status":[200,"ok",503]})", 3, s));
  EXPECT_FALSE(ParseBatchAnswer(R"({"status":[200,-1,503]})", 3, s));
  EXPECT_FALSE(ParseBatchAnswer(R"({"status":[200,99,600]})", 3, s));
  EXPECT_FALSE(ParseBatchAnswer(R"({"id":"x"})", 1, s)) << "a single event's answer";
  EXPECT_FALSE(ParseBatchAnswer("not json", 1, s));
}

}  // namespace
}  // namespace tandem
