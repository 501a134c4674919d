#include "splitter/live_state.h"

#include <gtest/gtest.h>

#include "tests/support/process.h"

namespace tandem::splitter {
namespace {

TEST(LiveState, StartsFromInitialAndPersistsSwaps) {
  testing::TempDir d;
  std::string f = d.path() + "/sub/state.json";
  {
    LiveState s(f, Color::kBlue);
    EXPECT_EQ(s.live(), Color::kBlue);
    LiveSnapshot snap;
    ASSERT_FALSE(s.SetLive(Color::kGreen, snap));
    EXPECT_EQ(s.live(), Color::kGreen);
    EXPECT_GT(snap.changed_at_ms, 0);
  }
  LiveState again(f, Color::kBlue);
  EXPECT_EQ(again.live(), Color::kGreen);
}

TEST(LiveState, ACorruptFileStopsStartup) {
  testing::TempDir d;
  std::string f = d.Write("state.json", "{\"live\": \"purple\"}");
  EXPECT_THROW(LiveState(f, Color::kBlue), std::runtime_error);
}

}  // namespace
}  // namespace tandem::splitter
