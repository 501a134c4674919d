// The spool on its own: round trips, recovery (torn tails, corrupt frames,
// missing segments, checkpoints ahead of the spool), recycling, and space.
#include "pipeline/spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "pipeline/spool_segment.h"
#include "tests/support/process.h"

namespace tandem::pipeline {
namespace {
namespace fs = std::filesystem;

SpoolRecord Rec(int i) {
  return {"id-" + std::to_string(i),
          1000 + i,
          "live",
          {{"User-Agent", "ua"}},
          std::string("body\0x", 6) + std::to_string(i)};
}

std::error_code AppendSync(Spool& s, const SpoolRecord& r) {
  std::string frame;
  EXPECT_TRUE(EncodeFrame(r, frame));
  std::promise<std::error_code> p;
  s.Append(std::move(frame), [&](std::error_code ec) { p.set_value(ec); });
  return p.get_future().get();
}

std::vector<std::string> Ids(const ReadBatch& b) {
  std::vector<std::string> ids;
  for (const auto& e : b.entries) ids.push_back(e.record.tandem_id);
  return ids;
}

std::vector<std::string> IdRange(int from, int to, int except = -1) {
  std::vector<std::string> ids;
  for (int i = from; i < to; ++i) {
    if (i != except) ids.push_back("id-" + std::to_string(i));
  }
  return ids;
}

std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (ParseSegmentFileName(e.path().filename().string())) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Flips one byte of a file in place.
void Corrupt(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

TEST(Spool, RecordsRoundTripAcrossSegmentsAndReopen) {
  testing::TempDir d;
  {
    Spool s({.dir = d.path(), .max_bytes = 1 << 20, .segment_bytes = 256});
    for (int i = 0; i < 20; ++i) ASSERT_FALSE(AppendSync(s, Rec(i)));
    EXPECT_GT(s.segments(), 2u);
  }
  Spool s({.dir = d.path(), .max_bytes = 1 << 20, .segment_bytes = 256});
  ReadBatch out;
  ASSERT_FALSE(s.Read(s.start(), 100, out));
  ASSERT_EQ(out.entries.size(), 20u);
  EXPECT_EQ(out.skipped, 0u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(out.entries[i].record.tandem_id, "id-" + std::to_string(i));
    EXPECT_EQ(out.entries[i].record.body, Rec(i).body);
    EXPECT_EQ(out.entries[i].record.headers, Rec(i).headers);
  }
  EXPECT_EQ(out.next, s.durable_end());
  uint64_t mid = out.entries[10].end;
  s.Release(mid);
  EXPECT_LE(s.start(), mid);
  ReadBatch rest;
  ASSERT_FALSE(s.Read(mid, 100, rest));
  EXPECT_EQ(Ids(rest), IdRange(11, 20));
}

TEST(Spool, ATornTailIsCutOffAtRecovery) {
  testing::TempDir d;
  uint64_t good_end;
  {
    Spool s({.dir = d.path(), .max_bytes = 1 << 20});
    for (int i = 0; i < 3; ++i) ASSERT_FALSE(AppendSync(s, Rec(i)));
    good_end = s.durable_end();
  }
  std::string frame;
  EncodeFrame(Rec(3), frame);
  SealFrame(frame, 0);
  std::ofstream(SegmentFiles(d.path()).back(), std::ios::app | std::ios::binary)
      << frame.substr(0, frame.size() / 2);
  Spool s({.dir = d.path(), .max_bytes = 1 << 20});
  EXPECT_EQ(s.durable_end(), good_end);
  EXPECT_EQ(s.recovery().torn_bytes, frame.size() / 2);
  EXPECT_EQ(s.recovery().corrupt_bytes, 0u);
  ASSERT_FALSE(AppendSync(s, Rec(4)));
  ReadBatch out;
  ASSERT_FALSE(s.Read(0, 100, out));
  EXPECT_EQ(Ids(out), (std::vector<std::string>{"id-0", "id-1", "id-2", "id-4"}));
}

TEST(Spool, ACorruptFrameInTheMiddleKeepsTheFramesAfterIt) {
  testing::TempDir d;
  std::vector<uint64_t> ends;
  uint64_t durable;
  {
    Spool s({.dir = d.path(), .max_bytes = 1 << 20});
    for (int i = 0; i < 10; ++i) ASSERT_FALSE(AppendSync(s, Rec(i)));
    ReadBatch all;
    ASSERT_FALSE(s.Read(0, 100, all));
    for (auto& e : all.entries) ends.push_back(e.end);
    durable = s.durable_end();
  }
  Corrupt(SegmentFiles(d.path()).back(), ends[4] + kFrameHeader + 3);  // inside frame 5's payload
  Spool s({.dir = d.path(), .max_bytes = 1 << 20});
  EXPECT_EQ(s.durable_end(), durable) << "nothing after the corrupt frame is cut off";
  EXPECT_EQ(s.recovery().corrupt_bytes, ends[5] - ends[4]);
  ReadBatch out;
  ASSERT_FALSE(s.Read(0, 100, out));
  EXPECT_EQ(Ids(out), IdRange(0, 10, /*except=*/5));
  EXPECT_EQ(out.skipped, ends[5] - ends[4]);
  EXPECT_EQ(out.next, durable);
}

TEST(Spool, AGarbageLengthIsNeverTrustedAndTheNextFrameIsFound) {
  testing::TempDir d;
  std::vector<uint64_t> ends;
  {
    Spool s({.dir = d.path(), .max_bytes = 1 << 20});
    for (int i = 0; i < 6; ++i) ASSERT_FALSE(AppendSync(s, Rec(i)));
    ReadBatch all;
    ASSERT_FALSE(s.Read(0, 100, all));
    for (auto& e : all.entries) ends.push_back(e.end);
  }
  // Frame 3's length becomes about 4 GiB: its header no longer checks out.
  std::string seg = SegmentFiles(d.path()).back();
  Corrupt(seg, ends[2] + 7);
  uint32_t len = 0;
  std::string header(kFrameHeader, '\0');
  std::ifstream(seg, std::ios::binary)
      .seekg(static_cast<std::streamoff>(ends[2]))
      .read(header.data(), kFrameHeader);
  EXPECT_EQ(CheckHeader(header, 0, len), HeaderCheck::kBad);
  Spool s({.dir = d.path(), .max_bytes = 1 << 20});
  ReadBatch out;
  ASSERT_FALSE(s.Read(0, 100, out));
  EXPECT_EQ(Ids(out), IdRange(0, 6, /*except=*/3));
}

TEST(Spool, ASpoolShorterThanItsCheckpointsStartsAfterThem) {
  testing::TempDir d;
  uint64_t checkpoint;
  {
    Spool s({.dir = d.path(), .max_bytes = 1 << 20});
    for (int i = 0; i < 5; ++i) ASSERT_FALSE(AppendSync(s, Rec(i)));
    checkpoint = s.durable_end();
  }
  for (const auto& f : SegmentFiles(d.path())) fs::remove(f);  // every segment lost
  Spool s({.dir = d.path(), .max_bytes = 1 << 20, .resume_at = checkpoint});
  EXPECT_EQ(s.recovery().missing_bytes, checkpoint);
  EXPECT_EQ(s.durable_end(), checkpoint) << "new events go after the checkpoint, never below it";
  for (int i = 5; i < 8; ++i) ASSERT_FALSE(AppendSync(s, Rec(i)));
  ReadBatch out;
  ASSERT_FALSE(s.Read(checkpoint, 100, out));
  EXPECT_EQ(Ids(out), IdRange(5, 8));
}

TEST(Spool, AMissingSegmentIsSkippedAndCounted) {
  testing::TempDir d;
  {
    Spool s({.dir = d.path(), .max_bytes = 1 << 20, .segment_bytes = 200});
    for (int i = 0; i < 12; ++i) ASSERT_FALSE(AppendSync(s, Rec(i)));
  }
  auto files = SegmentFiles(d.path());
  ASSERT_GE(files.size(), 3u);
  uint64_t lost = fs::file_size(files[1]);
  fs::remove(files[1]);
  Spool s({.dir = d.path(), .max_bytes = 1 << 20, .segment_bytes = 200});
  ReadBatch out;
  ASSERT_FALSE(s.Read(s.start(), 100, out));
  EXPECT_EQ(out.skipped, lost);
  EXPECT_EQ(out.next, s.durable_end());
  EXPECT_LT(out.entries.size(), 12u);
  EXPECT_EQ(out.entries.back().record.tandem_id, "id-11");
}

TEST(Spool, ConsumedSegmentsAreRecycledAndTheirOldFramesNeverComeBack) {
  testing::TempDir d;
  auto free_files = [&] {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(d.path())) n += e.path().extension() == ".free";
    return n;
  };
  {
    Spool s({.dir = d.path(), .max_bytes = 1 << 20, .segment_bytes = 200});
    for (int i = 0; i < 30; ++i) ASSERT_FALSE(AppendSync(s, Rec(i)));
    ReadBatch all;
    ASSERT_FALSE(s.Read(s.start(), 100, all));
    ASSERT_EQ(all.entries.size(), 30u);
    s.Release(all.entries[24].end);
    EXPECT_EQ(free_files(), 2u) << "two consumed segments are kept for reuse, the rest deleted";
    EXPECT_LT(SegmentFiles(d.path()).size(), 6u);
    for (int i = 30; i < 60; ++i) ASSERT_FALSE(AppendSync(s, Rec(i)));  // rotations reuse them
    EXPECT_EQ(free_files(), 0u) << "free files were reused";
  }
  Spool s({.dir = d.path(), .max_bytes = 1 << 20, .segment_bytes = 200});
  EXPECT_EQ(s.recovery().corrupt_bytes, 0u) << "stale frames of a recycled file are not damage";
  ReadBatch out;
  ASSERT_FALSE(s.Read(s.start(), 1000, out));
  auto ids = Ids(out);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.back(), "id-59");
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_EQ(std::stoi(ids[i].substr(3)), std::stoi(ids[i - 1].substr(3)) + 1)
        << "no gaps, no stale records";
  }
  EXPECT_LE(std::stoi(ids.front().substr(3)), 25);
}

TEST(Spool, ASegmentTheConsumersPassedBeforeItRotatedIsFreedAtTheRotation) {
  // A full disk seen by CI: the consumers reach the durable end while every
  // write fails, then the next append rotates. The old segment is wholly
  // consumed, and no consumer will move again to free it: the rotation must.
  testing::TempDir d;
  Spool s({.dir = d.path(), .max_bytes = 1 << 20, .segment_bytes = 200});
  ASSERT_FALSE(AppendSync(s, Rec(0)));
  ASSERT_FALSE(AppendSync(s, Rec(1)));
  ASSERT_EQ(s.segments(), 1u);
  s.Release(s.durable_end());  // both consumers caught up; the tail never goes
  ASSERT_EQ(s.segments(), 1u);
  const auto before = SegmentFiles(d.path());
  for (int i = 2; i < 20 && SegmentFiles(d.path()).back() == before.back(); ++i)
    ASSERT_FALSE(AppendSync(s, Rec(i)));
  // The append that rotated started a new tail; everything before it was released.
  ASSERT_NE(SegmentFiles(d.path()).back(), before.back()) << "never rotated";
  EXPECT_EQ(SegmentFiles(d.path()).size(), 1u) << "the consumed segment outlived its rotation";
  EXPECT_EQ(s.segments(), 1u);
}

TEST(Spool, AFullSpoolRefusesAppendsAndTakesThemAgainOnceConsumersPass) {
  // Any size works: 1 MiB is far below the largest segment size.
  testing::TempDir d;
  Spool s({.dir = d.path(), .max_bytes = 1 << 20});
  SpoolRecord big = Rec(0);
  big.body.assign(4000, 'x');
  int accepted = 0;
  std::error_code ec;
  for (int i = 0; i < 1000 && !ec; ++i) {
    ec = AppendSync(s, big);
    if (!ec) ++accepted;
  }
  ASSERT_EQ(ec, std::make_error_code(std::errc::no_space_on_device));
  EXPECT_GT(accepted, 200);
  EXPECT_LE(s.bytes(), 1u << 20);
  s.Release(s.durable_end());  // both consumers caught up
  EXPECT_EQ(s.bytes(), 0u);
  for (int i = 0; i < accepted; ++i) ASSERT_FALSE(AppendSync(s, big)) << i;
  EXPECT_LE(s.segments(), 10u);
}

TEST(Spool, AFullSpoolAcceptsAfterARestartOnceConsumersPassed) {
  testing::TempDir d;
  uint64_t end;
  {
    Spool s({.dir = d.path(), .max_bytes = 1 << 20});
    SpoolRecord big = Rec(0);
    big.body.assign(4000, 'x');
    while (!AppendSync(s, big)) {
    }
    end = s.durable_end();
  }
  Spool s({.dir = d.path(), .max_bytes = 1 << 20, .resume_at = end});
  s.Release(end);  // the checkpoints say both consumers were done
  EXPECT_EQ(s.bytes(), 0u);
  EXPECT_FALSE(AppendSync(s, Rec(1)));
}

TEST(Spool, ASpoolInTheEarlierFormatIsRefusedWithAMessage) {
  testing::TempDir d;
  d.Write(SegmentFileName(0), "old frames");
  try {
    Spool s({.dir = d.path(), .max_bytes = 1 << 20});
    FAIL() << "opened";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("earlier Tandem"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem::pipeline
