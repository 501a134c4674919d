#include "pipeline/trace/linger_timer.h"

#include <gtest/gtest.h>

namespace tandem::trace {
namespace {

// A batch that went out early (Disarm) and a new event right behind it (Arm,
// before the cancelled wait's handler ran): the new event must still be sent.
// Before LingerTimer, the stale handler cleared the flag and the new event
// waited for the next arrival, so the forwarder timed out on it.
TEST(LingerTimerTest, ArmingRightAfterADisarmStillFires) {
  boost::asio::io_context io;
  LingerTimer t(io);
  int fired = 0;
  t.Arm(std::chrono::milliseconds(1), [&] { fired += 10; });
  t.Disarm();
  t.Arm(std::chrono::milliseconds(1), [&] { fired += 1; });
  io.run();
  EXPECT_EQ(fired, 1);
}

TEST(LingerTimerTest, ArmingWhileArmedKeepsTheFirstWait) {
  boost::asio::io_context io;
  LingerTimer t(io);
  int fired = 0;
  t.Arm(std::chrono::milliseconds(1), [&] { ++fired; });
  t.Arm(std::chrono::milliseconds(1), [&] { fired += 100; });
  io.run();
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace tandem::trace
