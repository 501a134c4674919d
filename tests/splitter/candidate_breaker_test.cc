#include "splitter/candidate_breaker.h"

#include <gtest/gtest.h>

namespace tandem::splitter {
namespace {

using namespace std::chrono_literals;

TEST(CandidateBreaker, OpensAfterConsecutiveFailuresAndProbesWithBackoff) {
  CandidateBreaker b;
  auto t = CandidateBreaker::Clock::time_point{} + 1h;
  for (int i = 0; i < CandidateBreaker::kThreshold - 1; ++i) {
    ASSERT_TRUE(b.Allow(t));
    b.Failure(t);
  }
  EXPECT_FALSE(b.open());
  b.Failure(t);
  EXPECT_TRUE(b.open());
  EXPECT_FALSE(b.Allow(t + 10ms));
  EXPECT_TRUE(b.Allow(t + 50ms));   // one probe
  EXPECT_FALSE(b.Allow(t + 51ms));  // only one at a time
  b.Failure(t + 52ms);              // probe failed: wait twice as long
  EXPECT_FALSE(b.Allow(t + 140ms));
  EXPECT_TRUE(b.Allow(t + 152ms));
  b.Success();
  EXPECT_FALSE(b.open());
  EXPECT_TRUE(b.Allow(t + 153ms));
  EXPECT_TRUE(b.Allow(t + 153ms));
}

TEST(CandidateBreaker, ASuccessResetsTheCount) {
  CandidateBreaker b;
  auto t = CandidateBreaker::Clock::now();
  for (int i = 0; i < 20; ++i) {
    b.Failure(t);
    if (i % 3 == 0) b.Success();
    ASSERT_FALSE(b.open());
  }
}

}  // namespace
}  // namespace tandem::splitter
