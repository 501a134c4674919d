#include "common/uuid7.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

namespace tandem {
namespace {

TEST(Uuid7, CanonicalFormWithVersionAndVariant) {
  Uuid7 u = NewUuid7();
  ASSERT_EQ(u.text.size(), 36u);
  EXPECT_EQ(u.text[8], '-');
  EXPECT_EQ(u.text[14], '7');
  EXPECT_NE(std::string("89ab").find(u.text[19]), std::string::npos);
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  EXPECT_LE(std::abs(now - u.unix_ms), 1000);
  EXPECT_EQ(std::stoull(u.text.substr(0, 8) + u.text.substr(9, 4), nullptr, 16),
            static_cast<uint64_t>(u.unix_ms));
}

TEST(Uuid7, StrictlyIncreasingAcrossThreads) {
  constexpr int kPerThread = 20000;
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) got[t].push_back(NewUuid7().text);
    });
  }
  for (auto& t : ts) t.join();
  std::set<std::string> all;
  for (auto& v : got) {
    for (size_t i = 1; i < v.size(); ++i) ASSERT_LT(v[i - 1], v[i]);
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), 4u * kPerThread);
}

}  // namespace
}  // namespace tandem
