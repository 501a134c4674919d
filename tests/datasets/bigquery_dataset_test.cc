// BigQueryDataset against the HTTPS stand-in: JWT bearer flow, token cache and
// refresh, bootstrap, insertAll batching and retries, query polling and paging.
#include "datasets/bigquery_dataset.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/support/bigquery_stub.h"
#include "tests/support/status_matchers.h"

namespace tandem {
namespace {

using testing::BigQueryStub;
using testing::IsOk;
using testing::TestPki;

DatasetConfig ConfigFor(const TestPki& pki, const BigQueryStub& stub) {
  DatasetConfig d;
  d.kind = "bigquery";
  d.project = "test-project";
  d.dataset = "tandem_{color}";
  d.credentials_file = pki.WriteServiceAccount(stub.token_uri());
  d.endpoint = stub.url();
  d.token_uri = stub.token_uri();
  return d;
}

std::vector<RawRow> Rows(int n, int from = 0) {
  std::vector<RawRow> out;
  for (int i = from; i < from + n; ++i) {
    out.push_back({"id-" + std::to_string(100000 + i), 1700000000123 + i,
                   R"({"event":"pageview","n":)" + std::to_string(i) + "}"});
  }
  return out;
}

class BigQueryDatasetTest : public ::testing::Test {
 protected:
  TestPki pki;
};

TEST_F(BigQueryDatasetTest, BootstrapCreatesTheDatasetTablesAndViewOnce) {
  BigQueryStub stub(pki);
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kBlue, pki.ca_cert);
  EXPECT_EQ(ds.dataset_id(), "tandem_blue");
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  EXPECT_EQ(stub.tables(),
            (std::set<std::string>{"raw", "deliveries", "rejected", "raw_normalized"}));
  EXPECT_EQ(stub.token_requests(), 1u) << "the token is cached";
  EXPECT_TRUE(stub.violations().empty()) << stub.violations().front();
}

TEST_F(BigQueryDatasetTest, InsertAllSendsAtMost500RowsWithInsertIds) {
  BigQueryStub stub(pki);
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kGreen, pki.ca_cert);
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  ASSERT_TRUE(IsOk(ds.InsertRaw(Rows(1234))));
  ASSERT_TRUE(IsOk(ds.InsertRaw(Rows(10))));
  auto rows = stub.rows("raw");
  ASSERT_EQ(rows.size(), 1234u);
  EXPECT_EQ(stub.max_rows_per_insert(), 500u);
  EXPECT_EQ(stub.insert_calls(), 4u);
  EXPECT_EQ(rows["id-100007"]["data"], R"({"event":"pageview","n":7})");
  EXPECT_DOUBLE_EQ(rows["id-100007"]["received_at"].get<double>(), 1700000000.130);
  EXPECT_TRUE(stub.violations().empty()) << stub.violations().front();
}

TEST_F(BigQueryDatasetTest, ADeliveryAfterAFailedOneIsNotDroppedAsADuplicate) {
  // A backfill writes `delivered` for an event whose row says `failed`: the
  // insertId must differ, or BigQuery's dedupe drops the delivery.
  BigQueryStub stub(pki);
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  DeliveryRow failed{"id-1", "hooks", "failed", 500, 3, 1700000000000, "aa", ""};
  DeliveryRow delivered{"id-1", "hooks", "delivered", 200, 1, 1700000060000, "aa", ""};
  ASSERT_TRUE(IsOk(ds.InsertDeliveries({failed})));
  ASSERT_TRUE(IsOk(ds.InsertDeliveries({failed})));  // a resend: deduplicated
  ASSERT_TRUE(IsOk(ds.InsertDeliveries({delivered})));
  auto rows = stub.rows("deliveries");
  ASSERT_EQ(rows.size(), 2u);
  std::set<std::string> outcomes;
  for (const auto& [id, r] : rows) outcomes.insert(r["outcome"].get<std::string>());
  EXPECT_EQ(outcomes, (std::set<std::string>{"failed", "delivered"}));
}

TEST_F(BigQueryDatasetTest, RowLevelInsertErrorsAreRetried) {
  BigQueryStub stub(pki);
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  stub.RejectRowsOnce({"id-100003", "id-100007"});
  ASSERT_TRUE(IsOk(ds.InsertRaw(Rows(20))));
  EXPECT_EQ(stub.rows("raw").size(), 20u);
  EXPECT_EQ(stub.insert_calls(), 2u);
}

TEST_F(BigQueryDatasetTest, ServerErrorsAndRateLimitsAreReportedForTheCallerToRetry) {
  BigQueryStub stub(pki);
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  stub.FailNextInserts(500, 1);
  WriteResult w = ds.InsertRaw(Rows(5));
  EXPECT_FALSE(w.status.ok());
  EXPECT_NE(w.status.message().find("500"), std::string::npos) << w.status.message();
  stub.FailNextInserts(429, 1);
  EXPECT_FALSE(ds.InsertRaw(Rows(5)).status.ok());
  ASSERT_TRUE(IsOk(ds.InsertRaw(Rows(5))));
  EXPECT_EQ(stub.rows("raw").size(), 5u);
}

TEST_F(BigQueryDatasetTest, ATokenCloseToExpiryIsRefreshedAndA401GetsANewOne) {
  BigQueryStub stub(pki, /*token_ttl_s=*/120);  // inside the 5-minute refresh margin
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  size_t before = stub.token_requests();
  ASSERT_TRUE(IsOk(ds.InsertRaw(Rows(3))));
  ASSERT_TRUE(IsOk(ds.InsertRaw(Rows(3, 3))));
  EXPECT_EQ(stub.token_requests(), before + 2)
      << "a token expiring within the margin is not reused";

  BigQueryStub fresh(pki);
  BigQueryDataset ds2(ConfigFor(pki, fresh), Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(ds2.Bootstrap()));
  EXPECT_EQ(fresh.token_requests(), 1u);
  fresh.RevokeTokens();
  ASSERT_TRUE(IsOk(ds2.InsertRaw(Rows(3))));
  EXPECT_EQ(fresh.token_requests(), 2u);
  EXPECT_EQ(fresh.rows("raw").size(), 3u);
}

TEST_F(BigQueryDatasetTest, TheTokenUriComesFromTheKeyFileUnlessTheConfigSetsOne) {
  BigQueryStub stub(pki);
  DatasetConfig c = ConfigFor(pki, stub);
  c.token_uri.clear();  // the key file says stub.token_uri(), as Google's libraries read it
  BigQueryDataset from_file(c, Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(from_file.Bootstrap()));
  EXPECT_EQ(stub.token_requests(), 1u);

  c.credentials_file = pki.WriteServiceAccount("https://127.0.0.1:1/nowhere");
  c.token_uri = stub.token_uri();  // the config overrides the file
  BigQueryDataset overridden(c, Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(overridden.Bootstrap()));
  EXPECT_EQ(stub.token_requests(), 2u);
}

TEST_F(BigQueryDatasetTest, RowsRefusedForGoodAreReportedAndTheOthersStored) {
  BigQueryStub stub(pki);
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  stub.RejectRowsAlways({"id-100003"});
  WriteResult w = ds.InsertRaw(Rows(10));
  ASSERT_TRUE(w.status.ok()) << w.status.message();
  ASSERT_EQ(w.refused.size(), 1u);
  EXPECT_EQ(w.refused[0].index, 3u);
  EXPECT_NE(w.refused[0].reason.find("invalid"), std::string::npos) << w.refused[0].reason;
  EXPECT_EQ(stub.rows("raw").size(), 9u);
}

TEST_F(BigQueryDatasetTest, AJwtSignedWithAnotherKeyIsRefused) {
  BigQueryStub stub(pki);
  TestPki other;
  DatasetConfig c = ConfigFor(pki, stub);
  c.credentials_file = other.WriteServiceAccount(stub.token_uri());
  BigQueryDataset ds(c, Color::kBlue, pki.ca_cert);
  EXPECT_FALSE(ds.Bootstrap().ok());
  ASSERT_FALSE(stub.violations().empty());
  EXPECT_EQ(stub.violations().front(), "token: bad signature");
}

TEST_F(BigQueryDatasetTest, QueriesPollForCompletionAndFollowPageTokens) {
  BigQueryStub stub(pki);
  stub.set_page_size(2);
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  ASSERT_TRUE(IsOk(ds.InsertRaw(Rows(5))));
  std::vector<std::vector<std::string>> rows;
  ASSERT_TRUE(IsOk(
      ds.Query("SELECT tandem_id, received_at, data FROM `test-project.tandem_blue.raw`", rows)));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0][0], "id-100000");
  EXPECT_EQ(rows[4][2], R"({"event":"pageview","n":4})");
  EXPECT_TRUE(stub.violations().empty()) << stub.violations().front();
}

TEST_F(BigQueryDatasetTest, PlainHttpEndpointsAreAConfigError) {
  std::string yaml = R"(splitter: { listen: "127.0.0.1:1", admin_listen: "127.0.0.1:2" }
colors:
  blue: { dispatcher_listen: "127.0.0.1:3", trace_listen: "127.0.0.1:4",
          dataset: { kind: bigquery, project: p, dataset: d, credentials_file: sa.json, endpoint: "http://bq.example.com" } }
  green: { dispatcher_listen: "127.0.0.1:5", trace_listen: "127.0.0.1:6", dataset: { kind: sqlite, path: g.db } }
)";
  try {
    ParseConfig(yaml, "/x/t.yaml");
    FAIL() << "accepted an http:// BigQuery endpoint";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("colors.blue.dataset.endpoint: must be an https:// URL"),
              std::string::npos)
        << e.what();
  }
}

// A dataset the first release made: no payload columns, no mirror. Until
// bootstrap adds them, compare is told what to run and a row with the new
// column is refused, as BigQuery refuses it; after, both work, and nothing of
// the old schema changed.
TEST_F(BigQueryDatasetTest, BootstrapAddsTheColumnsAnOlderReleaseLacks) {
  BigQueryStub stub(pki);
  auto field = [](const char* name, const char* type, const char* mode) {
    return nlohmann::json{{"name", name}, {"type", type}, {"mode", mode}};
  };
  const nlohmann::json old_raw = {field("tandem_id", "STRING", "REQUIRED"),
                                  field("received_at", "TIMESTAMP", "REQUIRED"),
                                  field("data", "STRING", "REQUIRED")};
  stub.AddTable("tandem_blue", "raw", old_raw);
  stub.AddTable(
      "tandem_blue", "deliveries",
      {field("tandem_id", "STRING", "REQUIRED"), field("vendor", "STRING", "REQUIRED"),
       field("outcome", "STRING", "REQUIRED"), field("status_code", "INTEGER", "NULLABLE"),
       field("attempts", "INTEGER", "REQUIRED"), field("at", "TIMESTAMP", "REQUIRED")});
  stub.AddTable("tandem_blue", "rejected",
                {field("tandem_id", "STRING", "REQUIRED"), field("reason", "STRING", "REQUIRED"),
                 field("at", "TIMESTAMP", "REQUIRED")});
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kBlue, pki.ca_cert);

  Status before = ds.CheckSchema();
  ASSERT_FALSE(before.ok());
  for (const char* want : {"raw.mirror", "deliveries.payload_hash", "deliveries.payload",
                           "tandem bigquery bootstrap", "--color blue"})
    EXPECT_NE(before.message().find(want), std::string::npos) << before.message();
  RawRow row{"id-1", 1700000000000, R"({"event":"pageview"})", "sent"};
  WriteResult refused = ds.InsertRaw({row});
  ASSERT_TRUE(IsOk(refused.status));
  EXPECT_EQ(refused.refused.size(), 1u) << "BigQuery refuses a field the table lacks";

  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  EXPECT_EQ(stub.patch_calls(), 2u);
  ASSERT_TRUE(IsOk(ds.CheckSchema()));
  nlohmann::json raw = stub.schema("raw");
  ASSERT_EQ(raw.size(), 4u);
  for (size_t i = 0; i < old_raw.size(); ++i) EXPECT_EQ(raw[i], old_raw[i]) << "unchanged";
  EXPECT_EQ(raw[3], field("mirror", "STRING", "NULLABLE"));
  WriteResult w = ds.InsertRaw({row});
  ASSERT_TRUE(IsOk(w.status));
  EXPECT_TRUE(w.refused.empty());
  EXPECT_EQ(stub.rows("raw")["id-1"]["mirror"], "sent");
  DeliveryRow d{"id-1", "ga4", "delivered", 204, 1, 1700000000100, "ab", "{}"};
  ASSERT_TRUE(IsOk(ds.InsertDeliveries({d})));
  EXPECT_EQ(stub.rows("deliveries").size(), 1u);
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  EXPECT_EQ(stub.patch_calls(), 2u) << "an upgraded dataset is not patched again";
  EXPECT_TRUE(stub.violations().empty()) << stub.violations().front();
}

// A column bootstrap has just added takes a while to reach streaming inserts:
// BigQuery answers "no such field" meanwhile. Those rows are sent again, not
// refused for good (the dead letters would keep acknowledged events from raw).
TEST_F(BigQueryDatasetTest, RowsNamingAJustAddedColumnAreRetriedNotRefused) {
  BigQueryStub stub(pki);
  auto field = [](const char* name, const char* type, const char* mode) {
    return nlohmann::json{{"name", name}, {"type", type}, {"mode", mode}};
  };
  stub.AddTable(
      "tandem_blue", "raw",
      {field("tandem_id", "STRING", "REQUIRED"), field("received_at", "TIMESTAMP", "REQUIRED"),
       field("data", "STRING", "REQUIRED")});
  stub.DelaySchemaChanges(2);
  BigQueryDataset ds(ConfigFor(pki, stub), Color::kBlue, pki.ca_cert);
  ASSERT_TRUE(IsOk(ds.Bootstrap()));
  WriteResult w = ds.InsertRaw({{"id-1", 1700000000000, "{}", "sampled_out"}});
  ASSERT_TRUE(IsOk(w.status));
  EXPECT_TRUE(w.refused.empty());
  EXPECT_EQ(stub.rows("raw")["id-1"]["mirror"], "sampled_out");
  EXPECT_GE(stub.insert_calls(), 3u);
  EXPECT_TRUE(stub.violations().empty()) << stub.violations().front();
}

}  // namespace
}  // namespace tandem
