// ASSERT_TRUE(IsOk(call())) for Status and WriteResult, printing the detail on failure.
#pragma once

#include <gtest/gtest.h>

#include "common/status.h"
#include "datasets/dataset.h"

namespace tandem::testing {

inline ::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.message();
}

// Ok and nothing refused.
inline ::testing::AssertionResult IsOk(const WriteResult& w) {
  if (!w.status.ok()) return ::testing::AssertionFailure() << w.status.message();
  if (!w.refused.empty()) {
    return ::testing::AssertionFailure()
           << w.refused.size() << " rows refused, first: " << w.refused.front().reason;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace tandem::testing
