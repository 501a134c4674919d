// SqliteDataset's writes: a group's delivery and rejected rows go in one
// transaction, counted in the WAL itself.
#include "datasets/sqlite_dataset.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "compare/window_reader.h"
#include "tests/support/process.h"
#include "tests/support/sqlite_rows.h"

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

// The tables as the first release made them (no payload columns, no mirror),
// and as the release before sampling did (payloads, no mirror).
constexpr const char* kFirstRelease = R"SQL(
CREATE TABLE raw (tandem_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX raw_received_at ON raw (received_at);
CREATE TABLE deliveries (tandem_id TEXT NOT NULL, vendor TEXT NOT NULL, outcome TEXT NOT NULL,
  status_code INTEGER, attempts INTEGER NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (tandem_id, vendor));
CREATE TABLE rejected (tandem_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL);
INSERT INTO raw VALUES ('0190a1b2-c3d4-7000-8000-000000000001', 1000, '{"event":"old"}');
INSERT INTO deliveries VALUES ('0190a1b2-c3d4-7000-8000-000000000001', 'ga4', 'delivered', 204, 1, 1100);
)SQL";
constexpr const char* kReleaseBeforeSampling = R"SQL(
CREATE TABLE raw (tandem_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE deliveries (tandem_id TEXT NOT NULL, vendor TEXT NOT NULL, outcome TEXT NOT NULL,
  status_code INTEGER, attempts INTEGER NOT NULL, at INTEGER NOT NULL, payload_hash TEXT,
  payload TEXT, PRIMARY KEY (tandem_id, vendor));
CREATE TABLE rejected (tandem_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL);
INSERT INTO raw VALUES ('0190a1b2-c3d4-7000-8000-000000000001', 1000, '{"event":"old"}');
INSERT INTO deliveries VALUES ('0190a1b2-c3d4-7000-8000-000000000001', 'ga4', 'delivered', 204, 1, 1100, 'ab', '{}');
)SQL";

// Upgrading needs no new dataset: opening an older release's file adds the
// columns this one reads and writes; its rows stay, their new columns NULL.
TEST(SqliteUpgrade, ADatasetAnOlderReleaseMadeGainsTheNewColumnsOnOpen) {
  for (const char* schema : {kFirstRelease, kReleaseBeforeSampling}) {
    testing::TempDir dir;
    const std::string path = dir.path() + "/old.db";
    ASSERT_EQ(testing::ExecSql(path, schema), "");
    SqliteDataset db(path);
    ASSERT_TRUE(db.CheckSchema().ok());
    ASSERT_TRUE(db.Bootstrap().ok());
    RawRow row{"0190a1b2-c3d4-7000-8000-000000000002", 2000, R"({"event":"new"})", "sampled_out"};
    ASSERT_TRUE(db.InsertRaw({row}).status.ok());
    DeliveryRow delivery{row.tandem_id, "ga4", "delivered", 204, 1, 2100, "cd", R"({"p":1})"};
    ASSERT_TRUE(db.InsertDeliveries({delivery}).status.ok());
    auto raw = testing::QueryRows(path, "SELECT tandem_id, mirror FROM raw ORDER BY tandem_id");
    ASSERT_EQ(raw.size(), 2u);
    EXPECT_EQ(raw[0].at("mirror"), "") << "an old row's new column is NULL";
    EXPECT_EQ(raw[1].at("mirror"), "sampled_out");
    auto d = testing::QueryRows(path, "SELECT payload FROM deliveries ORDER BY tandem_id");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[1].at("payload"), R"({"p":1})");
    // Compare reads the old row as sent, the new one as sampled out.
    compare::ColorWindow w;
    ASSERT_TRUE(ReadWindow(db, 0, 3000, compare::Fingerprint::kHash, w).ok());
    ASSERT_EQ(w.raw.size(), 2u);
    EXPECT_EQ(w.raw[0].mirror, compare::Mirror::kUnmarked) << "NULL: counted as sent";
    EXPECT_EQ(w.raw[1].mirror, compare::Mirror::kSampledOut);
    EXPECT_EQ(w.deliveries.size(), 2u);
  }
}

}  // namespace
}  // namespace tandem
