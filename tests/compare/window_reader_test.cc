// ReadWindow on rows as BigQuery returns them: its tables are append-only, so
// an event backfilled after a failed delivery has two rows for one vendor.
#include "compare/window_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "compare/window_diff.h"
#include "datasets/sqlite_dataset.h"

namespace tandem::compare {
namespace {

// Answers the raw query with `raw` and the deliveries query with `deliveries`.
class CannedDataset : public Dataset {
 public:
  std::vector<std::vector<std::string>> raw, deliveries;
  Status Bootstrap() override { return {}; }
  WriteResult InsertRaw(const std::vector<RawRow>&) override { return {}; }
  WriteResult InsertDeliveries(const std::vector<DeliveryRow>&) override { return {}; }
  WriteResult InsertRejected(const std::vector<RejectedRow>&) override { return {}; }
  Status Query(const std::string& sql, std::vector<std::vector<std::string>>& rows) override {
    rows = sql.find("JOIN") != std::string::npos ? deliveries : raw;
    return {};
  }
  std::string Table(const std::string& t) const override { return "`p.d." + t + "`"; }
  SqlDialect dialect() const override { return SqlDialect::kBigQuery; }
};

TEST(ReadWindow, ABackfilledDeliveryCountsAsDeliveredWhicheverRowComesFirst) {
  const std::string id = "0190a1b2-c3d4-7e5f-8a9b-000000000001";
  for (bool failed_first : {true, false}) {
    CannedDataset d;
    d.raw = {{id, "signup", "123", ""}};
    std::vector<std::string> failed = {id, "hooks", "failed", "aa"},
                             delivered = {id, "hooks", "delivered", "aa"};
    d.deliveries = failed_first ? std::vector{failed, delivered} : std::vector{delivered, failed};
    ColorWindow w;
    ASSERT_TRUE(ReadWindow(d, 0, 1000, Fingerprint::kHash, w).ok());
    ASSERT_EQ(w.deliveries.size(), 1u);
    EXPECT_TRUE(w.deliveries[0].settled) << "failed row first: " << failed_first;
  }
}

TEST(ReadWindow, ADeliveryFailedOnOneSideIsAFailureNotAMissingRow) {
  const std::string id = "0190a1b2-c3d4-7e5f-8a9b-000000000001";
  CannedDataset live, candidate;
  live.raw = candidate.raw = {{id, "signup", "123", ""}};
  live.deliveries = {{id, "hooks", "delivered", "aa"}};
  candidate.deliveries = {{id, "hooks", "failed", "aa"}};
  ColorWindow l, c;
  ASSERT_TRUE(ReadWindow(live, 0, 1000, Fingerprint::kHash, l).ok());
  ASSERT_TRUE(ReadWindow(candidate, 0, 1000, Fingerprint::kHash, c).ok());
  WindowDiff d = DiffWindow(l, c);
  ASSERT_EQ(d.report.deliveries.size(), 1u);
  const auto& v = d.report.deliveries[0];
  EXPECT_EQ(v.both, 1u);
  EXPECT_EQ(v.only_live, 0u);
  EXPECT_EQ(v.only_candidate, 0u);
  EXPECT_EQ(v.candidate_failed, 1u);
}

// Ids are decoded into 128-bit keys; a key must give back the id it came from,
// and ids that are not lowercase UUIDs (upper case, a digit short, a letter
// past f, another shape) must stay distinct and be shown as they were written.
TEST(ReadWindow, EveryIdComesBackAsItWasWritten) {
  const std::vector<std::string> ids = {
      "0190a1b2-c3d4-7e5f-8a9b-0123456789ab", "ffffffff-ffff-ffff-ffff-ffffffffffff",
      "00000000-0000-0000-0000-000000000000", "0190A1B2-C3D4-7E5F-8A9B-0123456789AB",
      "0190a1b2-c3d4-7e5f-8a9b-0123456789a",  "0190a1b2-c3d4-7e5f-8a9b-0123456789ag",
      "0190a1b2xc3d4-7e5f-8a9b-0123456789ab", "order-42"};
  CannedDataset d;
  for (const auto& id : ids) d.raw.push_back({id, "signup", "1", ""});
  ColorWindow w;
  ASSERT_TRUE(ReadWindow(d, 0, 1000, Fingerprint::kHash, w).ok());
  ASSERT_EQ(w.raw.size(), ids.size()) << "two ids decoded to one key";
  std::set<std::string> back;
  for (const auto& r : w.raw) back.insert(w.IdText(r.id));
  EXPECT_EQ(back, std::set<std::string>(ids.begin(), ids.end()));
}

// On SQLite, bodies are compared by tandem_fingerprint: a change in any one
// byte (in a full 8-byte word or in the tail) or in the length is a mismatch.
TEST(ReadWindow, BodiesThatDifferInAnyByteAreMismatchedOnSqlite) {
  SqliteDataset live(":memory:"), candidate(":memory:");
  ASSERT_TRUE(live.Bootstrap().ok());
  ASSERT_TRUE(candidate.Bootstrap().ok());
  const std::string body = R"({"event":"signup","deviceId":"d-1","properties":{"plan":"pro"}})";
  std::vector<RawRow> l, c;
  char id[40];
  auto next_id = [&id, n = 0]() mutable {
    std::snprintf(id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012x", n++);
    return std::string(id);
  };
  size_t changes = 0;
  auto differ = [&](const std::string& changed) {
    std::string i = next_id();
    l.push_back({i, 10, body});
    c.push_back({i, 10, changed});
    ++changes;
  };
  for (size_t k = 0; k < body.size(); ++k) {
    for (int bit : {0x01, 0x80}) {
      std::string changed = body;
      changed[k] = static_cast<char>(changed[k] ^ bit);
      differ(changed);
    }
  }
  // Top bits of bytes 7, 11 and 15 at once: a pattern that a plain
  // multiply-per-word hash cannot tell apart (a reviewer's find).
  std::string pattern = body;
  for (size_t k : {7, 11, 15}) pattern[k] = static_cast<char>(pattern[k] ^ 0x80);
  differ(pattern);
  std::string same = next_id(), longer = next_id();
  l.push_back({same, 10, body});
  c.push_back({same, 10, body});
  l.push_back({longer, 10, body});
  c.push_back({longer, 10, body + " "});
  ASSERT_TRUE(live.InsertRaw(l).status.ok());
  ASSERT_TRUE(candidate.InsertRaw(c).status.ok());
  ColorWindow lw, cw;
  ASSERT_TRUE(ReadWindow(live, 0, 1000, Fingerprint::kHash, lw).ok());
  ASSERT_TRUE(ReadWindow(candidate, 0, 1000, Fingerprint::kHash, cw).ok());
  WindowDiff d = DiffWindow(lw, cw);
  EXPECT_EQ(d.report.mismatched, changes + 1) << "all but the identical pair";
}

// The event name on SQLite: the one-pass scan for plain bodies, json_extract
// for the rest (escapes, numbers, invalid JSON), and more names than the
// interning scan holds.
TEST(ReadWindow, EventNamesOnSqliteMatchJsonExtractForEveryBodyShape) {
  SqliteDataset db(":memory:");
  ASSERT_TRUE(db.Bootstrap().ok());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"event":"a\u0062"})", "ab"},
      {R"({"ev\u0065nt":"x","event":"c"})", "c"},
      {R"({"event":7})", "7"},
      {R"({"event":"d",})", ""},
      {"not json", ""},
      {R"({"properties":{"event":"inner"}})", ""},
  };
  std::vector<std::pair<std::string, std::string>> all = cases;
  for (int n = 0; n < 12; ++n) {
    for (int k = 0; k < 3; ++k)
      all.push_back(
          {R"({"event":"name-)" + std::to_string(n) + R"("})", "name-" + std::to_string(n)});
  }
  std::vector<RawRow> rows;
  std::map<std::string, std::string> want;
  char id[48];  // room for any size_t in hex
  for (size_t i = 0; i < all.size(); ++i) {
    std::snprintf(id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012zx", i);
    rows.push_back({id, 10, all[i].first});
    want[id] = all[i].second;
  }
  ASSERT_TRUE(db.InsertRaw(rows).status.ok());
  ColorWindow w;
  ASSERT_TRUE(ReadWindow(db, 0, 1000, Fingerprint::kHash, w).ok());
  ASSERT_EQ(w.raw.size(), all.size());
  for (const auto& r : w.raw)
    EXPECT_EQ(w.events.at(r.event), want[w.IdText(r.id)]) << w.IdText(r.id);
}

// On SQLite a window's deliveries are read by walking the window's stretch of
// UUIDv7 ids; they must be exactly the deliveries of the window's raw events,
// whatever the ids look like: a direct caller's own stamp (another time, upper
// case, not a UUID, not quotable), more such ids than are looked up one by one,
// and rows the walk passes that belong to no raw event of the window.
class SqliteWindowDeliveries : public ::testing::Test {
 protected:
  static constexpr int64_t kW0 = 1767225600000;  // a window's start
  static constexpr int64_t kWindow = 60000;

  void SetUp() override { ASSERT_TRUE(db_.Bootstrap().ok()); }

  static std::string Uuid7At(int64_t ms, int n) {
    char id[48];
    std::snprintf(id, sizeof id, "%08llx-%04llx-7abc-8def-%012x",
                  static_cast<unsigned long long>(ms >> 16),
                  static_cast<unsigned long long>(ms & 0xffff), n);
    return id;
  }

  // An event received at `received_at` with one delivery per vendor.
  void Event(const std::string& id, int64_t received_at, bool raw = true) {
    if (raw) {
      ASSERT_TRUE(db_.InsertRaw({{id, received_at, R"({"event":"signup"})"}}).status.ok());
    }
    ASSERT_TRUE(db_.InsertDeliveries({{id, "ga4", "delivered", 204, 1, received_at, "aa", ""},
                                      {id, "amplitude", "failed", 500, 3, received_at, "bb", ""}})
                    .status.ok());
  }

  std::set<std::string> Read(int64_t start) {
    ColorWindow w;
    EXPECT_TRUE(ReadWindow(db_, start, start + kWindow, Fingerprint::kHash, w).ok());
    std::set<std::string> out;
    for (const auto& d : w.deliveries) {
      out.insert(w.IdText(d.id) + " " + w.vendors.at(d.vendor) + (d.settled ? " settled" : ""));
    }
    return out;
  }

  static std::set<std::string> Expected(const std::vector<std::string>& ids) {
    std::set<std::string> out;
    for (const auto& id : ids) {
      out.insert(id + " ga4 settled");
      out.insert(id + " amplitude");
    }
    return out;
  }

  SqliteDataset db_{":memory:"};
};

TEST_F(SqliteWindowDeliveries, EveryDeliveryOfTheWindowsEventsAndNoOther) {
  const std::vector<std::string> in = {
      Uuid7At(kW0, 1),
      Uuid7At(kW0 + 30000, 2),
      Uuid7At(kW0 + kWindow - 1, 3),
      Uuid7At(kW0 - 1, 4),                     // stamped a moment before the window
      Uuid7At(kW0 + kWindow, 5),               // stamped at the next window's start
      "0190A1B2-C3D4-7E5F-8A9B-0123456789AB",  // upper case
      "order-42"};                             // not a UUID
  for (const auto& id : in) Event(id, kW0 + 10);
  const std::string next = Uuid7At(kW0 + 100, 6);  // stamped in the window, received in the next
  Event(next, kW0 + kWindow + 5);
  Event(Uuid7At(kW0 + 200, 7), kW0 + 200, /*raw=*/false);  // no raw row (yet)
  EXPECT_EQ(Read(kW0), Expected(in));
  EXPECT_EQ(Read(kW0 + kWindow), Expected({next}));
}

TEST_F(SqliteWindowDeliveries, AnIdThatCannotBeQuotedIsStillFound) {
  const std::vector<std::string> in = {Uuid7At(kW0 + 1, 1), "it's-1"};
  for (const auto& id : in) Event(id, kW0 + 10);
  EXPECT_EQ(Read(kW0), Expected(in));
}

TEST_F(SqliteWindowDeliveries, ManyIdsStampedAtOtherTimesAreAllFound) {
  std::vector<std::string> in;
  for (int i = 0; i < 1500; ++i) in.push_back(Uuid7At(kW0 - 3600000 + i, i));
  in.push_back(Uuid7At(kW0 + 1, 9999));
  for (const auto& id : in) Event(id, kW0 + 10);
  EXPECT_EQ(Read(kW0), Expected(in));
}

// Ids that need looking up are put in the SQL: however many a direct caller
// stamps itself, a query stays bounded (past a limit the window is read by the
// join), and every delivery is still found.
TEST_F(SqliteWindowDeliveries, TheQueriesStayBoundedWhateverTheIds) {
  class Longest : public Dataset {
   public:
    explicit Longest(Dataset& d) : d_(d) {}
    Status Bootstrap() override { return {}; }
    WriteResult InsertRaw(const std::vector<RawRow>&) override { return {}; }
    WriteResult InsertDeliveries(const std::vector<DeliveryRow>&) override { return {}; }
    WriteResult InsertRejected(const std::vector<RejectedRow>&) override { return {}; }
    Status Query(const std::string& sql, std::vector<std::vector<std::string>>& rows) override {
      longest = std::max(longest, sql.size());
      return d_.Query(sql, rows);
    }
    Status QueryEach(const std::string& sql, const RowFn& row) override {
      longest = std::max(longest, sql.size());
      return d_.QueryEach(sql, row);
    }
    std::string Table(const std::string& t) const override { return d_.Table(t); }
    SqlDialect dialect() const override { return d_.dialect(); }
    size_t longest = 0;

   private:
    Dataset& d_;
  } longest(db_);
  std::vector<std::string> in;
  for (int i = 0; i < 5000; ++i) in.push_back(Uuid7At(kW0 - 3600000 + i, i));
  for (const auto& id : in) Event(id, kW0 + 10);
  ColorWindow w;
  ASSERT_TRUE(ReadWindow(longest, kW0, kW0 + kWindow, Fingerprint::kHash, w).ok());
  EXPECT_EQ(w.deliveries.size(), 2 * in.size());
  EXPECT_LT(longest.longest, 64u * 1024) << "5,000 ids of 36 characters are 180 KB";
}

// A UUID written to equal a hashed id's key (the top nibble f, then the
// hashes of another id) is another id: both events and their deliveries count.
TEST_F(SqliteWindowDeliveries, AUuidCannotTakeTheKeyOfAnIdThatIsNotOne) {
  const std::string odd = "order-42";
  auto fnv = [&odd](uint64_t h) {
    for (unsigned char c : odd) h = (h ^ c) * 1099511628211ull;
    return h;
  };
  const uint64_t hi = fnv(1469598103934665603ull) | 0xf000000000000000ull,
                 lo = fnv(0x84222325cbf29ce4ull);
  char forged[40];
  std::snprintf(forged, sizeof forged, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xffff),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffull));
  const std::vector<std::string> in = {odd, forged};
  for (const auto& id : in) Event(id, kW0 + 10);
  ColorWindow w;
  ASSERT_TRUE(ReadWindow(db_, kW0, kW0 + kWindow, Fingerprint::kHash, w).ok());
  EXPECT_EQ(w.raw.size(), 2u);
  EXPECT_EQ(Read(kW0), Expected(in));
}

}  // namespace
}  // namespace tandem::compare
