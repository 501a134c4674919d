#include "splitter/candidate_breaker.h"

#include <gtest/gtest.h>

namespace tandem::splitter {
namespace {

using namespace std::chrono_literals;
using Result = CandidateBreaker::Result;

// Opens the breaker at `t` with kThreshold refused copies.
void Open(CandidateBreaker& b, CandidateBreaker::Clock::time_point t) {
  bool probe;
  for (int i = 0; i < CandidateBreaker::kThreshold; ++i) {
    ASSERT_TRUE(b.Allow(t, probe));
    b.Record(Result::kRefused, probe, t);
  }
  ASSERT_TRUE(b.open());
}

TEST(CandidateBreaker, OpensAfterConsecutiveRefusalsAndProbesWithBackoff) {
  CandidateBreaker b;
  auto t = CandidateBreaker::Clock::time_point{} + 1h;
  Open(b, t);
  bool probe = false;
  EXPECT_FALSE(b.Allow(t + 10ms, probe));
  EXPECT_TRUE(b.Allow(t + 50ms, probe));  // one probe
  EXPECT_TRUE(probe);
  EXPECT_FALSE(b.Allow(t + 51ms, probe));      // only one at a time
  b.Record(Result::kRefused, true, t + 52ms);  // refused again: wait twice as long
  EXPECT_FALSE(b.Allow(t + 140ms, probe));
  EXPECT_TRUE(b.Allow(t + 152ms, probe));
  b.Record(Result::kAnswered, true, t + 153ms);
  EXPECT_FALSE(b.open());
  EXPECT_TRUE(b.Allow(t + 153ms, probe));
  EXPECT_FALSE(probe);
  EXPECT_TRUE(b.Allow(t + 153ms, probe));
}

TEST(CandidateBreaker, AProbeThatTimesOutIsTriedAgainAndTheBreakerClosesOnceItAnswers) {
  // The candidate was down, then slow while it started: probes time out.
  CandidateBreaker b;
  auto t = CandidateBreaker::Clock::time_point{} + 1h;
  Open(b, t);
  bool probe = false;
  auto now = t + 50ms;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(b.Allow(now, probe)) << i;
    ASSERT_TRUE(probe);
    b.Record(Result::kTimedOut, true, now + 300ms);
    EXPECT_TRUE(b.open());
    now += 300ms + CandidateBreaker::kMaxBackoff;  // past any backoff
  }
  ASSERT_TRUE(b.Allow(now, probe));
  b.Record(Result::kAnswered, true, now + 1ms);
  EXPECT_FALSE(b.open());
}

TEST(CandidateBreaker, AProbeThatWasNeverSentLetsTheNextCopyProbe) {
  CandidateBreaker b;
  auto t = CandidateBreaker::Clock::time_point{} + 1h;
  Open(b, t);
  bool probe = false;
  ASSERT_TRUE(b.Allow(t + 50ms, probe));
  b.Record(Result::kNotSent, probe, t + 50ms);
  EXPECT_TRUE(b.Allow(t + 51ms, probe));
  EXPECT_TRUE(probe);
}

TEST(CandidateBreaker, AnAnswerResetsTheCountAndTimeoutsOfOrdinaryCopiesDoNotOpenIt) {
  CandidateBreaker b;
  auto t = CandidateBreaker::Clock::now();
  bool probe;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(b.Allow(t, probe));
    b.Record(i % 3 == 0 ? Result::kAnswered : Result::kRefused, probe, t);
    ASSERT_FALSE(b.open());
  }
  for (int i = 0; i < 20; ++i) b.Record(Result::kTimedOut, false, t);
  EXPECT_FALSE(b.open());
}

}  // namespace
}  // namespace tandem::splitter
