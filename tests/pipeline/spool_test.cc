#include "pipeline/spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "tests/support/process.h"

namespace tandem::pipeline {
namespace {

SpoolRecord Rec(int i) {
  return {"id-" + std::to_string(i),
          1000 + i,
          "live",
          {{"User-Agent", "ua"}},
          std::string("body\0x", 6) + std::to_string(i)};
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
  std::ofstream(d.path() + "/00000000000000000000.seg", std::ios::app | std::ios::binary)
      << frame.substr(0, frame.size() / 2);
  Spool s({d.path(), 1 << 20, 1 << 20});
  EXPECT_EQ(s.durable_end(), good_end);
  AppendSync(s, Rec(4));
  std::vector<SpoolEntry> out;
  ASSERT_FALSE(s.Read(0, 100, out));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[3].record.tandem_id, "id-4");
}

TEST(Spool, ConsumedSegmentsAreRecycledAndTheirOldFramesNeverComeBack) {
  testing::TempDir d;
  auto files = [&] {  // segment files (and .free ones) in the folder
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(d.path())) n += e.is_regular_file();
    return n;
  };
  uint64_t keep_from;
  {
    Spool s({d.path(), 200, 1 << 20});
    for (int i = 0; i < 30; ++i) AppendSync(s, Rec(i));
    std::vector<SpoolEntry> all;
    ASSERT_FALSE(s.Read(s.start(), 100, all));
    ASSERT_EQ(all.size(), 30u);
    keep_from = all[24].end;
    s.Release(keep_from);
    size_t free_files = 0;
    for (const auto& e : std::filesystem::directory_iterator(d.path()))
      free_files += e.path().extension() == ".free";
    EXPECT_EQ(free_files, 2u) << "two consumed segments are kept for reuse, the rest deleted";
    EXPECT_LT(files(), 10u);
    for (int i = 30; i < 60; ++i) AppendSync(s, Rec(i));  // rotations take the recycled files first
    bool any_free = false;
    for (const auto& e : std::filesystem::directory_iterator(d.path()))
      any_free |= e.path().extension() == ".free";
    EXPECT_FALSE(any_free) << "free files were reused";
  }
  Spool s({d.path(), 200, 1 << 20});  // reopened: recovery must not see stale frames either
  std::vector<SpoolEntry> out;
  ASSERT_FALSE(s.Read(s.start(), 1000, out));
  ASSERT_FALSE(out.empty());
  std::vector<std::string> ids;
  for (auto& e : out) ids.push_back(e.record.tandem_id);
  EXPECT_EQ(ids.back(), "id-59");
  for (size_t i = 1; i < out.size(); ++i) {
    EXPECT_EQ(std::stoi(ids[i].substr(3)), std::stoi(ids[i - 1].substr(3)) + 1)
        << "no gaps, no stale records";
  }
  EXPECT_LE(std::stoi(ids.front().substr(3)), 25);
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
