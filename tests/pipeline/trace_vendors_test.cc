// `tandem trace` as a process in front of stand-in vendors and Sentry over TLS
// (a CA the test makes): each tracker's requests field by field, each failure
// answer's documented handling, and the `deliveries` rows that record it.
#include "tests/support/trace_vendors.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <future>

#include "common/event_batch.h"
#include "common/sha256.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/trace_harness.h"

namespace tandem::testing {
namespace {

using nlohmann::json;

class TraceVendorsTest : public ::testing::Test {
 protected:
  void StartTrace(TrackerOptions o = {}) {
    h_ = std::make_unique<TraceHarness>(vendors_.PipelineYaml(o));
    h_->Start(vendors_.Env());
  }
  Row DeliveryOf(const std::string& id, const std::string& vendor) {
    for (auto& r : h_->Deliveries()) {
      if (r["tandem_id"] == id && r["vendor"] == vendor) return r;
    }
    return {};
  }
  // Posts events [0, n) at once, so the trackers batch them.
  void PostConcurrently(int n) {
    std::vector<std::future<unsigned>> f;
    for (int i = 0; i < n; ++i) {
      f.push_back(std::async(std::launch::async, [this, i] { return h_->Post(Event(i)); }));
    }
    for (auto& x : f) EXPECT_EQ(x.get(), 200u);
  }

  Vendors vendors_;
  std::unique_ptr<TraceHarness> h_;
};

TEST_F(TraceVendorsTest, EachVendorGetsItsDocumentedRequestAndEachDeliveryIsRecorded) {
  StartTrace();
  StampedPost p = Event(1);
  ASSERT_EQ(h_->Post(p), 200u);
  // Answered only once the rows are written: they are there now.
  auto rows = h_->Deliveries();
  ASSERT_EQ(rows.size(), 5u);

  auto ga = vendors_.ga.requests();
  ASSERT_EQ(ga.size(), 1u);
  EXPECT_EQ(ga[0].method, "POST");
  EXPECT_EQ(ga[0].target, "/mp/collect?measurement_id=G-TEST&api_secret=ga-secret-1");
  EXPECT_EQ(ga[0].headers["content-type"], "application/json");
  json g = ga[0].json();
  EXPECT_EQ(g["client_id"], "dev-0001");
  EXPECT_EQ(g["user_id"], "user-0001");
  EXPECT_EQ(g["events"][0]["name"], "signup");
  EXPECT_EQ(g["events"][0]["params"]["plan"], "pro");
  EXPECT_EQ(g["events"][0]["params"]["note"], "mail [email]");
  EXPECT_EQ(g["events"][0]["timestamp_micros"], p.received_at * 1000);

  auto amp = vendors_.amplitude.requests();
  ASSERT_EQ(amp.size(), 1u);
  EXPECT_EQ(amp[0].target, "/2/httpapi");
  json a = amp[0].json();
  EXPECT_EQ(a["api_key"], "amp-key-1");
  EXPECT_EQ(a["events"][0]["insert_id"], p.id);
  EXPECT_EQ(a["events"][0]["event_type"], "signup");
  EXPECT_EQ(a["events"][0]["device_id"], "dev-0001");
  EXPECT_EQ(a["events"][0]["time"], p.received_at);
  EXPECT_EQ(a["events"][0]["ip"], "198.51.100.0");

  auto heap = vendors_.heap.requests();
  ASSERT_EQ(heap.size(), 1u);
  EXPECT_EQ(heap[0].target, "/api/track");
  json hp = heap[0].json();
  EXPECT_EQ(hp["app_id"], "4242");
  EXPECT_EQ(hp["events"][0]["idempotency_key"], p.id);
  EXPECT_EQ(hp["events"][0]["identity"], "user-0001");
  EXPECT_EQ(hp["events"][0]["event"], "signup");

  auto hooks = vendors_.webhook.requests();
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].target, "/hooks/tandem");
  EXPECT_EQ(hooks[0].json()["events"][0]["id"], p.id);

  // Each row: the outcome, and the hash of exactly what the vendor was sent.
  std::map<std::string, json> sent = {{"ga", g},
                                      {"amp", a["events"][0]},
                                      {"heap", hp["events"][0]},
                                      {"hooks", hooks[0].json()["events"][0]}};
  for (auto& row : rows) {
    EXPECT_EQ(row["tandem_id"], p.id);
    EXPECT_EQ(row["outcome"], "delivered") << row["vendor"];
    EXPECT_EQ(row["attempts"], "1");
    EXPECT_EQ(row["payload_hash"], Sha256Hex(row["payload"]));
    if (sent.count(row["vendor"])) {
      EXPECT_EQ(json::parse(row["payload"]), sent[row["vendor"]]) << row["vendor"];
      EXPECT_EQ(row["status_code"], "200");
    }
  }
  EXPECT_EQ(ReadFile(h_->dir.path() + "/capture-blue.jsonl"),
            DeliveryOf(p.id, "capture")["payload"] + "\n");
}

TEST_F(TraceVendorsTest, InvalidAndUnlistedEventsAreRejectedAndNeverSent) {
  StartTrace();
  StampedPost bad = Event(1);
  bad.body = "{not json";
  StampedPost unlisted = Event(2);
  unlisted.body = R"({"event":"export users","deviceId":"dev-2"})";
  StampedPost no_device = Event(3);
  no_device.body = R"({"event":"signup"})";
  for (auto* p : {&bad, &unlisted, &no_device}) ASSERT_EQ(h_->Post(*p), 200u);
  auto rejected = h_->Rejected();
  ASSERT_EQ(rejected.size(), 3u);
  EXPECT_EQ(rejected[0]["reason"], "invalid_json");
  EXPECT_EQ(rejected[1]["reason"], "not_allowlisted");
  EXPECT_EQ(rejected[2]["reason"], "invalid_schema");
  EXPECT_TRUE(h_->Deliveries().empty());
  EXPECT_EQ(vendors_.ga.count() + vendors_.amplitude.count() + vendors_.heap.count() +
                vendors_.webhook.count(),
            0u);
}

TEST_F(TraceVendorsTest, EventsAreBatchedUpToEachVendorsLimit) {
  TrackerOptions o;
  o.linger_ms = 300;
  StartTrace(o);
  PostConcurrently(30);
  // GA4: one client per request (these share one device), at most 25 events.
  size_t ga_events = 0, largest = 0;
  for (auto& r : vendors_.ga.requests()) {
    size_t n = r.json()["events"].size();
    EXPECT_LE(n, 25u);
    ga_events += n;
    largest = std::max(largest, n);
  }
  EXPECT_EQ(ga_events, 30u);
  EXPECT_GT(largest, 1u);
  size_t amp_events = 0;
  for (auto& r : vendors_.amplitude.requests()) amp_events += r.json()["events"].size();
  EXPECT_EQ(amp_events, 30u);
  EXPECT_LT(vendors_.amplitude.count(), 30u);
  EXPECT_EQ(h_->Deliveries().size(), 150u);
}

TEST_F(TraceVendorsTest, Amplitude400FailsTheEventsItNamesAndResendsTheRest) {
  vendors_.amplitude.set_answer([](const VendorRequest& r, size_t index) {
    if (index > 0) return VendorStub::Reply(200, R"({"code":200})");
    return VendorStub::Reply(400, R"({"code":400,"error":"Invalid field values on some events",)"
                                  R"("events_with_invalid_fields":{"time":[1]}})");
  });
  TrackerOptions o;
  o.linger_ms = 300;
  StartTrace(o);
  PostConcurrently(3);
  auto first = vendors_.amplitude.requests().at(0).json()["events"];
  ASSERT_EQ(first.size(), 3u) << "the three events were not batched";
  for (size_t i = 0; i < 3; ++i) {
    Row row = DeliveryOf(first[i]["insert_id"], "amp");
    if (i == 1) {
      EXPECT_EQ(row["outcome"], "failed");
      EXPECT_EQ(row["status_code"], "400");
      EXPECT_EQ(row["attempts"], "1");
    } else {
      EXPECT_EQ(row["outcome"], "delivered");
      EXPECT_EQ(row["attempts"], "2");
    }
  }
  // The resend held only the two others.
  EXPECT_EQ(vendors_.amplitude.requests().at(1).json()["events"].size(), 2u);
}

TEST_F(TraceVendorsTest, TooLargeSplitsTheBatchUntilItFits) {
  vendors_.heap.set_answer([](const VendorRequest& r, size_t) {
    return r.json()["events"].size() > 1 ? VendorStub::Reply(413, "") : VendorStub::Reply(200);
  });
  TrackerOptions o;
  o.linger_ms = 300;
  StartTrace(o);
  PostConcurrently(4);
  EXPECT_EQ(vendors_.heap.requests().at(0).json()["events"].size(), 4u);
  for (int i = 0; i < 4; ++i) {
    Row row = DeliveryOf(Event(i).id, "heap");
    EXPECT_EQ(row["outcome"], "delivered");
    EXPECT_EQ(row["attempts"], "3");  // 4 -> 2 -> 1
  }
}

TEST_F(TraceVendorsTest, TooManyRequestsWaitsForRetryAfter) {
  vendors_.webhook.set_answer([](const VendorRequest&, size_t index) {
    return index == 0 ? VendorStub::Reply(429, "", {{"Retry-After", "1"}}) : VendorStub::Reply(200);
  });
  StartTrace();
  ASSERT_EQ(h_->Post(Event(1)), 200u);
  Row row = DeliveryOf(Event(1).id, "hooks");
  EXPECT_EQ(row["outcome"], "delivered");
  EXPECT_EQ(row["attempts"], "2");
  auto r = vendors_.webhook.requests();
  ASSERT_EQ(r.size(), 2u);
  // Never sooner than the vendor asked.
  EXPECT_GE(r[1].at - r[0].at, std::chrono::milliseconds(950));
}

TEST_F(TraceVendorsTest, ServerErrorsAreRetriedThenRecordedFailedAndReportedToSentry) {
  vendors_.ga.set_answer([](const VendorRequest&, size_t) { return VendorStub::Reply(500); });
  StartTrace();
  ASSERT_EQ(h_->Post(Event(1)), 200u);
  Row row = DeliveryOf(Event(1).id, "ga");
  EXPECT_EQ(row["outcome"], "failed");
  EXPECT_EQ(row["status_code"], "500");
  EXPECT_EQ(row["attempts"], "3");
  EXPECT_EQ(vendors_.ga.count(), 3u);
  EXPECT_EQ(DeliveryOf(Event(1).id, "amp")["outcome"], "delivered");
  ASSERT_TRUE(vendors_.sentry.WaitUntil([](auto& r) { return r.size() >= 3; }));
  VendorRequest s = vendors_.sentry.requests().at(0);
  EXPECT_EQ(s.target, "/api/42/envelope/");
  EXPECT_NE(s.headers["x-sentry-auth"].find("sentry_key=publickey1"), std::string::npos);
  EXPECT_NE(s.headers["x-sentry-auth"].find("sentry_version=7"), std::string::npos);
  SentryEnvelope env = ParseEnvelope(s.body);
  EXPECT_EQ(env.header["event_id"], env.event["event_id"]);
  EXPECT_EQ(env.item["type"], "event");
  EXPECT_EQ(env.event["tags"]["vendor"], "ga");
  EXPECT_EQ(env.event["tags"]["color"], "blue");
  EXPECT_EQ(env.event["tags"]["role"], "live");
  EXPECT_EQ(env.event["tags"]["status"], "500");
  EXPECT_EQ(env.event["request"]["data"]["client_id"], "dev-0001");
  EXPECT_FALSE(env.event["breadcrumbs"]["values"].empty());
}

TEST_F(TraceVendorsTest, TimeoutsAreRetriedThenRecordedFailed) {
  vendors_.heap.set_answer([](const VendorRequest&, size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the stand-in is slow
    return VendorStub::Reply(200);
  });
  TrackerOptions o;
  o.timeout_ms = 200;
  StartTrace(o);
  ASSERT_EQ(h_->Post(Event(1)), 200u);
  Row row = DeliveryOf(Event(1).id, "heap");
  EXPECT_EQ(row["outcome"], "failed");
  EXPECT_EQ(row["status_code"], "0");
  EXPECT_EQ(row["attempts"], "3");
}

TEST_F(TraceVendorsTest, ClientErrorsAreNotRetried) {
  vendors_.webhook.set_answer([](const VendorRequest&, size_t) { return VendorStub::Reply(403); });
  StartTrace();
  ASSERT_EQ(h_->Post(Event(1)), 200u);
  Row row = DeliveryOf(Event(1).id, "hooks");
  EXPECT_EQ(row["outcome"], "failed");
  EXPECT_EQ(row["status_code"], "403");
  EXPECT_EQ(row["attempts"], "1");
  EXPECT_EQ(vendors_.webhook.count(), 1u);
}

TEST_F(TraceVendorsTest, SentryRateLimitsAreHonoured) {
  vendors_.ga.set_answer([](const VendorRequest&, size_t) { return VendorStub::Reply(500); });
  // Sentry answers the first report only once all three of event 1's GA4
  // failures are in: the reports that follow the first must wait for its
  // answer, which carries the limit, not race it.
  vendors_.sentry.set_answer([this](const VendorRequest&, size_t) {
    vendors_.ga.WaitUntil([](const auto& requests) { return requests.size() >= 3; },
                          std::chrono::seconds(10));
    return VendorStub::Reply(429, "", {{"X-Sentry-Rate-Limits", "60::organization"}});
  });
  StartTrace();
  ASSERT_EQ(h_->Post(Event(1)), 200u);
  ASSERT_EQ(h_->Post(Event(2)), 200u);
  // Six failed GA4 answers, one report: the rest fall inside Sentry's limit.
  EXPECT_GE(WaitForMetricAtLeast(h_->MetricsUrl(),
                                 R"(tandem_trace_sentry_reports_total{outcome="dropped"})", 6,
                                 std::chrono::seconds(10)),
            6);
  EXPECT_EQ(vendors_.sentry.count(), 1u);
}

TEST_F(TraceVendorsTest, CandidateValidatesWithGa4AndTurnsMessagesIntoRejectedDeliveries) {
  vendors_.ga.set_answer([](const VendorRequest& r, size_t) {
    return VendorStub::Reply(
        200, R"({"validationMessages":[{"fieldPath":"events[0].params","description":"bad param",)"
             R"("validationCode":"VALUE_INVALID"}]})");
  });
  StartTrace();
  StampedPost p = Event(1);
  p.role = "candidate";
  ASSERT_EQ(h_->Post(p), 200u);
  auto ga = vendors_.ga.requests();
  ASSERT_EQ(ga.size(), 1u);
  EXPECT_EQ(ga[0].target.rfind("/debug/mp/collect?", 0), 0u) << ga[0].target;
  EXPECT_EQ(DeliveryOf(p.id, "ga")["outcome"], "rejected");
  // The candidate never reaches production Amplitude or the webhook (skip), and
  // sends Heap to its staging app.
  EXPECT_EQ(DeliveryOf(p.id, "amp")["outcome"], "skipped");
  EXPECT_EQ(vendors_.amplitude.count(), 0u);
  EXPECT_EQ(vendors_.heap.requests().at(0).json()["app_id"], "staging-4343");
}

TEST_F(TraceVendorsTest, ARedeliveredEventIsNotSentAgain) {
  StartTrace();
  StampedPost p = Event(1);
  ASSERT_EQ(h_->Post(p), 200u);
  auto before = h_->Deliveries();
  p.redelivery = true;
  ASSERT_EQ(h_->Post(p), 200u);
  EXPECT_EQ(vendors_.ga.count(), 1u);
  EXPECT_EQ(vendors_.amplitude.count(), 1u);
  EXPECT_EQ(h_->Deliveries(), before);
  EXPECT_EQ(ScrapeMetric(h_->MetricsUrl(), "tandem_trace_duplicates_skipped_total"), 5);
}

TEST_F(TraceVendorsTest, ABatchIsAnsweredPerEventOnceEveryEventsRowsAreWritten) {
  StartTrace();
  StampedPost seen = Event(1);
  ASSERT_EQ(h_->Post(seen), 200u);
  auto seen_rows = h_->Deliveries();
  ASSERT_EQ(seen_rows.size(), 5u);
  seen.redelivery = true;
  StampedPost invalid = Event(3);
  invalid.body = std::string("not json \xff\x00", 11);
  StampedPost with_context = Event(4);
  with_context.headers = {{"User-Agent", "Batch-Agent/1.0"}};
  std::vector<unsigned> statuses;
  ASSERT_EQ(h_->PostBatch({seen, Event(2), invalid, with_context}, statuses), 200u);
  EXPECT_EQ(statuses, (std::vector<unsigned>{200, 200, 200, 200}));
  // Answered only once the rows are written: all are there now.
  std::map<std::string, int> rows_per_event;
  for (auto& r : h_->Deliveries()) ++rows_per_event[r["tandem_id"]];
  EXPECT_EQ(rows_per_event[seen.id], 5) << "the redelivered event is not delivered again";
  EXPECT_EQ(rows_per_event[Event(2).id], 5);
  EXPECT_EQ(rows_per_event[with_context.id], 5);
  EXPECT_EQ(rows_per_event.count(invalid.id), 0u);
  auto rejected = h_->Rejected();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["tandem_id"], invalid.id);
  EXPECT_EQ(rejected[0]["reason"], "invalid_json");
  EXPECT_EQ(ScrapeMetric(h_->MetricsUrl(), "tandem_trace_duplicates_skipped_total"), 5);
  // Each event's own headers make its context.
  EXPECT_NE(DeliveryOf(with_context.id, "capture")["payload"].find("Batch-Agent/1.0"),
            std::string::npos);
}

TEST_F(TraceVendorsTest, AMalformedBatchIsRefusedWholeAndNothingIsWritten) {
  StartTrace();
  std::string bytes;
  ASSERT_TRUE(AppendBatchedEvent(bytes, {{"X-Tandem-Id", Event(1).id}}, Event(1).body));
  EXPECT_EQ(h_->PostBatchBytes(bytes.substr(0, bytes.size() - 1)), 400u);
  EXPECT_EQ(h_->PostBatchBytes("TNDB1\n"), 400u);
  EXPECT_EQ(h_->PostBatchBytes(Event(1).body), 400u);
  EXPECT_TRUE(h_->Deliveries().empty());
  EXPECT_TRUE(h_->Rejected().empty());
  EXPECT_EQ(vendors_.ga.count(), 0u);
}

}  // namespace
}  // namespace tandem::testing

namespace tandem::testing {
namespace {

TEST(TraceReloadTest, SighupAppliesANewAllowlistAndKeepsRunning) {
  Vendors vendors;
  TraceHarness h(vendors.PipelineYaml());
  h.Start(vendors.Env());
  ASSERT_EQ(h.Post(Event(1)), 200u);
  std::string yaml = vendors.PipelineYaml();
  yaml.replace(yaml.find("signup:"), 7, "signin:");
  h.config.extra = yaml;
  h.config.Write(h.dir.path());
  h.proc->Signal(SIGHUP);
  ASSERT_TRUE(h.proc->WaitForLog("config reloaded")) << h.proc->Output();
  ASSERT_EQ(h.Post(Event(2)), 200u);
  auto rejected = h.Rejected();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["tandem_id"], Event(2).id);
  EXPECT_EQ(rejected[0]["reason"], "not_allowlisted");
  EXPECT_EQ(h.Stop(), 0);
}

}  // namespace
}  // namespace tandem::testing
