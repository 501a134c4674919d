#include "pipeline/spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <future>

#include "tests/support/process.h"

namespace tandem::pipeline {
namespace {

SpoolRecord Rec(int i) {
  return {"id-" + std::to_string(i), 1000 + i, "live", {{"User-Agent", "ua"}}, std::string("body\0x", 6) + std::to_string(i)};
}

void AppendSync(Spool& s, const SpoolRecord& r) {
  std::string frame;
  EncodeFrame(r, frame);
  std::promise<std::error_code> p;
  s.Append(std::move(frame), [&](std::error_code ec) { p.set_value(ec); });
  ASSERT_FALSE(p.get_future().get());
}

TEST(Spool, RecordsRoundTripAcrossSegmentsAndReopen) {
  testing::TempDir d;
  {
    Spool s({d.path(), 256, 1 << 20});
    for (int i = 0; i < 20; ++i) AppendSync(s, Rec(i));
    EXPECT_GT(s.segments(), 2u);
  }
  Spool s({d.path(), 256, 1 << 20});
  std::vector<SpoolEntry> out;
  ASSERT_FALSE(s.Read(s.start(), 100, out));
  ASSERT_EQ(out.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(out[i].record.tandem_id, "id-" + std::to_string(i));
    EXPECT_EQ(out[i].record.body, Rec(i).body);
    EXPECT_EQ(out[i].record.headers, Rec(i).headers);
  }
  EXPECT_EQ(out.back().end, s.durable_end());
  s.Release(out[10].end);
  EXPECT_LE(s.start(), out[10].end);
  std::vector<SpoolEntry> rest;
  ASSERT_FALSE(s.Read(out[10].end, 100, rest));
  EXPECT_EQ(rest.size(), 9u);
}

TEST(Spool, ATornTailIsCutOffAtRecovery) {
  testing::TempDir d;
  uint64_t good_end;
  {
    Spool s({d.path(), 1 << 20, 1 << 20});
    for (int i = 0; i < 3; ++i) AppendSync(s, Rec(i));
    good_end = s.durable_end();
  }
  std::string frame;
  EncodeFrame(Rec(3), frame);
  std::ofstream(d.path() + "/00000000000000000000.seg", std::ios::app | std::ios::binary) << frame.substr(0, frame.size() / 2);
  Spool s({d.path(), 1 << 20, 1 << 20});
  EXPECT_EQ(s.durable_end(), good_end);
  AppendSync(s, Rec(4));
  std::vector<SpoolEntry> out;
  ASSERT_FALSE(s.Read(0, 100, out));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[3].record.tandem_id, "id-4");
}

TEST(Spool, AFullSpoolRefusesAppends) {
  testing::TempDir d;
  Spool s({d.path(), 1 << 20, 300});
  std::string frame;
  EncodeFrame(Rec(1), frame);
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    std::promise<std::error_code> p;
    s.Append(frame, [&](std::error_code ec) { p.set_value(ec); });
    if (p.get_future().get()) ++refused;
  }
  EXPECT_GT(refused, 0);
  EXPECT_LE(s.bytes(), 300u);
}

}  // namespace
}  // namespace tandem::pipeline
