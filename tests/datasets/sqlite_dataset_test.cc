// SqliteDataset's writes: a group's delivery and rejected rows go in one
// transaction, counted in the WAL itself.
#include "datasets/sqlite_dataset.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace tandem {
namespace {

// Transactions committed to a WAL file: the frames whose header carries the
// database size after the commit (bytes 4-7), which only a transaction's last
// frame does. Frames with another salt are left over from an earlier WAL.
int WalCommits(const std::string& wal) {
  std::ifstream in(wal, std::ios::binary);
  std::vector<unsigned char> b((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  auto be32 = [&b](size_t at) {
    return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 | b[at + 3];
  };
  if (b.size() < 32) return 0;
  const uint32_t page = be32(8) == 1 ? 65536 : be32(8);
  const uint32_t salt1 = be32(16), salt2 = be32(20);
  int commits = 0;
  for (size_t at = 32; at + 24 + page <= b.size(); at += 24 + page) {
    if (be32(at + 8) != salt1 || be32(at + 12) != salt2) break;
    if (be32(at + 4) != 0) ++commits;
  }
  return commits;
}

std::vector<DeliveryRow> Deliveries() {
  return {{"0190a1b2-0000-7000-8000-000000000001", "ga4", "delivered", 204, 1, 1000, "ab", "{}"},
          {"0190a1b2-0000-7000-8000-000000000001", "amplitude", "failed", 500, 3, 1000, "cd", ""}};
}

std::vector<RejectedRow> Rejected() {
  return {{"0190a1b2-0000-7000-8000-000000000002", "invalid_json", 1000}};
}

std::string Count(SqliteDataset& db, const std::string& table) {
  std::vector<std::vector<std::string>> rows;
  EXPECT_TRUE(db.Query("SELECT count(*) FROM " + table, rows).ok());
  return rows.empty() || rows[0].empty() ? "" : rows[0][0];
}

class SqliteOutcomes : public ::testing::Test {
 protected:
  testing::TempDir dir;
  std::string path = dir.path() + "/color.db";
  SqliteDataset db{path};
  void SetUp() override { ASSERT_TRUE(db.Bootstrap().ok()); }
  int Commits() { return WalCommits(path + "-wal"); }
};

TEST_F(SqliteOutcomes, ADeliveryAndRejectedGroupIsOneTransaction) {
  const int before = Commits();
  OutcomesWriteResult w = db.InsertOutcomes(Deliveries(), Rejected());
  ASSERT_TRUE(w.status.ok()) << w.status.message();
  EXPECT_TRUE(w.deliveries_refused.empty());
  EXPECT_TRUE(w.rejected_refused.empty());
  EXPECT_EQ(Commits() - before, 1);
  EXPECT_EQ(Count(db, "deliveries"), "2");
  EXPECT_EQ(Count(db, "rejected"), "1");
}

TEST_F(SqliteOutcomes, TheWalCountSeesTwoSeparateInsertsAsTwo) {
  // What the one-transaction test's count is measured against.
  const int before = Commits();
  ASSERT_TRUE(db.InsertDeliveries(Deliveries()).status.ok());
  ASSERT_TRUE(db.InsertRejected(Rejected()).status.ok());
  EXPECT_EQ(Commits() - before, 2);
}

TEST_F(SqliteOutcomes, EitherKindAloneAndNeitherAreWritten) {
  const int before = Commits();
  ASSERT_TRUE(db.InsertOutcomes({}, {}).status.ok());
  ASSERT_TRUE(db.InsertOutcomes({}, Rejected()).status.ok());
  ASSERT_TRUE(db.InsertOutcomes(Deliveries(), {}).status.ok());
  EXPECT_EQ(Commits() - before, 2);
  EXPECT_EQ(Count(db, "deliveries"), "2");
  EXPECT_EQ(Count(db, "rejected"), "1");
  // Written again (a retried group): stored once, by key.
  ASSERT_TRUE(db.InsertOutcomes(Deliveries(), Rejected()).status.ok());
  EXPECT_EQ(Count(db, "deliveries"), "2");
  EXPECT_EQ(Count(db, "rejected"), "1");
}

TEST_F(SqliteOutcomes, AFailedGroupStoresNothingOfIt) {
  // The rejected insert fails (its table is gone) after the deliveries went in:
  // the group is rolled back whole, so its retry is not half done already.
  std::vector<std::vector<std::string>> ignored;
  ASSERT_TRUE(db.Query("DROP TABLE rejected", ignored).ok());
  OutcomesWriteResult w = db.InsertOutcomes(Deliveries(), Rejected());
  EXPECT_FALSE(w.status.ok());
  EXPECT_EQ(Count(db, "deliveries"), "0");
  // Trace bootstraps again after a failure and sends the group again.
  ASSERT_TRUE(db.Bootstrap().ok());
  ASSERT_TRUE(db.InsertOutcomes(Deliveries(), Rejected()).status.ok());
  EXPECT_EQ(Count(db, "deliveries"), "2");
  EXPECT_EQ(Count(db, "rejected"), "1");
}

}  // namespace
}  // namespace tandem
