// `tandem backfill` (SPEC section 1): after a vendor outage, a color's events
// for a time range go through trace again, and trace delivers only what has no
// `delivered` row, with the payload first built, to every tracker or one.
#include <gtest/gtest.h>

#include <set>

#include "datasets/sqlite_dataset.h"
#include "tests/support/sqlite_rows.h"
#include "tests/support/stub_upstream.h"
#include "tests/support/trace_harness.h"
#include "tests/support/trace_vendors.h"

namespace tandem::testing {
namespace {

constexpr int kEvents = 6;

std::map<std::string, Row> ByVendor(const std::vector<Row>& rows, const std::string& vendor) {
  std::map<std::string, Row> out;
  for (const auto& r : rows)
    if (r.at("vendor") == vendor) out[r.at("tandem_id")] = r;
  return out;
}

class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A fixed trace port: backfill finds trace through the config.
    h_.config.blue.trace_listen = "127.0.0.1:" + std::to_string(ClosedPort());
    config_ = h_.config.Write(h_.dir.path());
    auto down = [](const VendorRequest&, size_t) { return VendorStub::Reply(400, "{}"); };
    vendors_.webhook.set_answer(down);
    vendors_.amplitude.set_answer(down);
    h_.Start(vendors_.Env());
    // What the dispatcher's loader would have written.
    SqliteDataset raw(h_.db_path());
    ASSERT_TRUE(raw.Bootstrap().ok());
    std::vector<RawRow> rows;
    for (int i = 0; i < kEvents; ++i) {
      StampedPost p = Event(i);
      rows.push_back({p.id, p.received_at, p.body});
      ASSERT_EQ(h_.Post(p), 200u);
    }
    ASSERT_TRUE(raw.InsertRaw(rows).status.ok());
  }

  // Runs `tandem backfill` over the six events; returns its exit code and output.
  std::pair<int, std::string> Backfill(const std::string& vendor = "") {
    std::vector<std::string> argv = {TandemBinary(), "backfill",
                                     "-c",           config_,
                                     "--color",      "blue",
                                     "--from",       "1764323791000",
                                     "--to",         "1764323791006",
                                     "--role",       "live",
                                     "--page",       "4"};  // the six events take two pages
    if (!vendor.empty()) argv.insert(argv.end(), {"--vendor", vendor});
    Process p(argv);
    auto code = p.Wait(std::chrono::seconds(60));
    return {code.value_or(-1), p.Output()};
  }

  Vendors vendors_;
  TraceHarness h_{vendors_.PipelineYaml({.max_attempts = 1})};
  std::string config_;
};

TEST_F(BackfillTest, SendsAgainWhatFailedWithThePayloadFirstBuiltOnlyToTheVendorAsked) {
  auto before = h_.Deliveries();
  ASSERT_EQ(ByVendor(before, "hooks").size(), static_cast<size_t>(kEvents));
  for (const auto& [id, r] : ByVendor(before, "hooks")) EXPECT_EQ(r.at("outcome"), "failed");
  const size_t first_requests = vendors_.webhook.count();
  const size_t ga_sent = vendors_.ga.count(), amp_sent = vendors_.amplitude.count();

  auto up = [](const VendorRequest&, size_t) { return VendorStub::Reply(200, "{}"); };
  vendors_.webhook.set_answer(up);
  vendors_.amplitude.set_answer(up);
  auto [code, out] = Backfill("hooks");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("backfilled 6 events: 6 processed (6 deliveries sent again)"),
            std::string::npos)
      << out;

  auto after = h_.Deliveries();
  auto hooks_before = ByVendor(before, "hooks"), hooks_after = ByVendor(after, "hooks");
  ASSERT_EQ(hooks_after.size(), static_cast<size_t>(kEvents));
  for (const auto& [id, r] : hooks_after) {
    EXPECT_EQ(r.at("outcome"), "delivered") << id;
    EXPECT_EQ(r.at("payload_hash"), hooks_before[id].at("payload_hash"))
        << "the payload first built (with the client's context) is sent again";
  }
  // The webhook batches: the backfill's requests carry all six events.
  auto hooks = vendors_.webhook.requests();
  std::string again;
  for (size_t i = first_requests; i < hooks.size(); ++i) again += hooks[i].body;
  for (const auto& [id, r] : hooks_after) EXPECT_NE(again.find(id), std::string::npos) << id;
  EXPECT_EQ(vendors_.ga.count(), ga_sent) << "delivered vendors are left alone";
  EXPECT_EQ(vendors_.amplitude.count(), amp_sent) << "only the vendor asked for";
  for (const auto& [id, r] : ByVendor(after, "amp")) EXPECT_EQ(r.at("outcome"), "failed");
}

TEST_F(BackfillTest, EveryVendorThenAgainSendsNothingTwice) {
  auto up = [](const VendorRequest&, size_t) { return VendorStub::Reply(200, "{}"); };
  vendors_.webhook.set_answer(up);
  vendors_.amplitude.set_answer(up);
  auto [code, out] = Backfill();
  EXPECT_EQ(code, 0) << out;
  // Amplitude and the webhook failed for each event; the others are on record.
  EXPECT_NE(out.find("(12 deliveries sent again)"), std::string::npos) << out;
  for (const auto& r : h_.Deliveries()) EXPECT_EQ(r.at("outcome"), "delivered") << r.at("vendor");

  const size_t hooks = vendors_.webhook.count(), amp = vendors_.amplitude.count(),
               ga = vendors_.ga.count(), heap = vendors_.heap.count();
  auto [code2, out2] = Backfill();
  EXPECT_EQ(code2, 0) << out2;
  EXPECT_NE(out2.find("(0 deliveries sent again)"), std::string::npos) << out2;
  EXPECT_EQ(vendors_.webhook.count(), hooks);
  EXPECT_EQ(vendors_.amplitude.count(), amp);
  EXPECT_EQ(vendors_.ga.count(), ga);
  EXPECT_EQ(vendors_.heap.count(), heap);
}

TEST_F(BackfillTest, AnUnknownVendorOrABadTimeIsBadUsage) {
  auto [code, out] = Backfill("nosuch");
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("no tracker named 'nosuch'"), std::string::npos) << out;
  // Not a time; Unix seconds (which would select nothing); a day that does not exist.
  for (const char* from : {"yesterday", "1764323791", "2026-02-31T00:00:00Z"}) {
    Process p({TandemBinary(), "backfill", "-c", config_, "--color", "blue", "--from", from, "--to",
               "1764323791006", "--role", "live"});
    EXPECT_EQ(p.Wait(), 2) << from;
    EXPECT_NE(p.Output().find("Unix milliseconds (13 digits) or UTC"), std::string::npos)
        << p.Output();
  }
}

TEST_F(BackfillTest, TraceRefusesABackfillWithoutTheEventsId) {
  // A fresh id would make every run deliver the event again as a new one.
  StampedPost p = Event(0);
  p.id = "not-a-uuid";
  p.headers.emplace_back("X-Tandem-Backfill", "*");
  EXPECT_EQ(h_.Post(p), 400u);
}

}  // namespace
}  // namespace tandem::testing
