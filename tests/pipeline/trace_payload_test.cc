// What trace builds before anything is sent: the Sparrow schema check, the
// allowlist, each vendor's payload field by field, their determinism, and the
// privacy corpus against every vendor's payload.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>

#include "common/metrics.h"
#include "pipeline/trace/event_cleaner.h"
#include "pipeline/trace/sparrow_event.h"
#include "pipeline/trace/trace_metrics.h"
#include "pipeline/trace/tracker.h"
#include "pipeline/trace/trackers/ga4_tracker.h"
#include "tests/support/privacy_corpus.h"
#include "tests/support/process.h"

namespace tandem::trace {
namespace {

using nlohmann::json;

PipelineConfig Pipeline(const std::string& capture_path) {
  PipelineConfig p;
  p.allowlist_events = {{"signup", {"plan", "note", "meta", "tags", "page"}},
                        {"pageview", {"path", "referrer", "title"}}};
  p.trackers.clear();
  auto add = [&](std::string name, std::string kind) {
    TrackerConfig t;
    t.name = name;
    t.kind = kind;
    t.live.endpoint = "https://vendor.example";
    t.live.measurement_id = "G-TEST";
    t.live.api_secret_env = "TANDEM_TEST_VENDOR_SECRET";
    t.live.api_key_env = "TANDEM_TEST_VENDOR_SECRET";
    t.live.app_id = "1234";
    t.live.path = capture_path;
    t.candidate = t.live;
    t.candidate_mode = kind == "ga4" ? "validate" : "staging";
    p.trackers.push_back(t);
  };
  add("capture", "capture");
  add("hooks", "webhook");
  add("ga", "ga4");
  add("amp", "amplitude");
  add("heap", "heap");
  return p;
}

class TracePayloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TANDEM_TEST_VENDOR_SECRET", "vendor-secret-value", 1);
    config_ = Pipeline(dir_.path() + "/{color}-vendor.jsonl");
    std::vector<std::string> names;
    for (const auto& t : config_.trackers) names.push_back(t.name);
    tm_ = std::make_unique<TraceMetrics>(metrics_, names);
    trackers_ = MakeTrackers(config_, {io_, nullptr, Color::kBlue, *tm_, nullptr});
  }

  StampedEvent Stamped(const std::string& body) {
    StampedEvent e;
    e.tandem_id = "0190a1b2-c3d4-7e5f-8a9b-000000000001";
    e.received_at_ms = 1764323791123;
    e.role = "live";
    e.body = body;
    e.user_agent = "Mozilla/5.0 Test";
    e.forwarded_for = "198.51.100.24";
    e.accept_language = "de-DE,de;q=0.9";
    e.referer = "https://shop.example/pricing?utm_source=news&session=abc";
    return e;
  }

  json PayloadOf(const std::string& tracker, const CleanEvent& e) {
    for (const auto& t : trackers_) {
      if (t->name() == tracker) return t->Payload(e);
    }
    ADD_FAILURE() << "no tracker " << tracker;
    return {};
  }

  testing::TempDir dir_;
  PipelineConfig config_;
  Metrics metrics_;
  std::unique_ptr<TraceMetrics> tm_;
  boost::asio::io_context io_;
  std::vector<TrackerPtr> trackers_;
};

TEST_F(TracePayloadTest, SchemaFailuresNameTheirReason) {
  EventCleaner cleaner(config_);
  auto reason = [&](const std::string& body) { return cleaner.Clean(Stamped(body)).reject_reason; };
  EXPECT_EQ(reason("not json"), "invalid_json");
  EXPECT_EQ(reason("\"a string\""), "invalid_schema");
  EXPECT_EQ(reason(R"({"deviceId":"d"})"), "invalid_schema");
  EXPECT_EQ(reason(R"({"event":"signup"})"), "invalid_schema");
  EXPECT_EQ(reason(R"({"event":"signup","deviceId":7})"), "invalid_schema");
  EXPECT_EQ(reason(R"({"event":"signup","deviceId":"d","properties":[]})"), "invalid_schema");
  EXPECT_EQ(reason(R"({"event":"signup","deviceId":"d","userId":5})"), "invalid_schema");
  EXPECT_EQ(reason(R"({"event":"hack","deviceId":"d"})"), "not_allowlisted");
  EXPECT_EQ(reason(R"({"event":"signup","deviceId":"d"})"), "");
}

TEST_F(TracePayloadTest, AllowlistDropsAndCountsOtherProperties) {
  CleanResult r = EventCleaner(config_).Clean(Stamped(
      R"({"event":"signup","deviceId":"d-1","properties":{"plan":"pro","ssn":"x","cc":1}})"));
  ASSERT_TRUE(r.event);
  EXPECT_EQ(r.event->properties, json({{"plan", "pro"}}));
  EXPECT_EQ(r.properties_dropped, 2u);
}

TEST_F(TracePayloadTest, ContextComesFromTheStampedHeaders) {
  CleanResult r = EventCleaner(config_).Clean(Stamped(R"({"event":"signup","deviceId":"d-1"})"));
  ASSERT_TRUE(r.event);
  const EventContext& c = r.event->context;
  EXPECT_EQ(c.ip, "198.51.100.0");
  EXPECT_EQ(c.locale, "de-DE");
  EXPECT_EQ(c.page_url, "https://shop.example/pricing?utm_source=news");
  EXPECT_EQ(c.page_path, "/pricing");
  EXPECT_EQ(c.user_agent, "Mozilla/5.0 Test");
}

TEST_F(TracePayloadTest, VendorPayloadsFollowEachVendorsFormat) {
  CleanResult r = EventCleaner(config_).Clean(Stamped(
      R"({"event":"signup","deviceId":"d-12345","userId":"u-777","properties":{"plan":"pro","tags":["a","b"]}})"));
  ASSERT_TRUE(r.event);
  json ga = PayloadOf("ga", *r.event);
  EXPECT_EQ(ga["client_id"], "d-12345");
  EXPECT_EQ(ga["user_id"], "u-777");
  ASSERT_EQ(ga["events"].size(), 1u);
  EXPECT_EQ(ga["events"][0]["name"], "signup");
  EXPECT_EQ(ga["events"][0]["timestamp_micros"], 1764323791123000);
  EXPECT_EQ(ga["events"][0]["params"]["plan"], "pro");
  EXPECT_EQ(ga["events"][0]["params"]["tags"], R"(["a","b"])");
  EXPECT_EQ(ga["events"][0]["params"]["engagement_time_msec"], 1);
  EXPECT_FALSE(ga.dump().find("vendor-secret-value") != std::string::npos);

  json amp = PayloadOf("amp", *r.event);
  EXPECT_EQ(amp["event_type"], "signup");
  EXPECT_EQ(amp["device_id"], "d-12345");
  EXPECT_EQ(amp["user_id"], "u-777");
  EXPECT_EQ(amp["time"], 1764323791123);
  EXPECT_EQ(amp["insert_id"], "0190a1b2-c3d4-7e5f-8a9b-000000000001");
  EXPECT_EQ(amp["event_properties"]["plan"], "pro");
  EXPECT_EQ(amp["ip"], "198.51.100.0");
  EXPECT_EQ(amp["language"], "de-DE");
  EXPECT_FALSE(amp.contains("api_key"));

  json heap = PayloadOf("heap", *r.event);
  EXPECT_EQ(heap["identity"], "u-777");
  EXPECT_EQ(heap["event"], "signup");
  EXPECT_EQ(heap["timestamp"], "2025-11-28T09:56:31.123Z");
  EXPECT_EQ(heap["idempotency_key"], "0190a1b2-c3d4-7e5f-8a9b-000000000001");
  EXPECT_EQ(heap["properties"]["tags"], "a||b");
  EXPECT_FALSE(heap.contains("app_id"));

  json hook = PayloadOf("hooks", *r.event);
  EXPECT_EQ(hook["id"], "0190a1b2-c3d4-7e5f-8a9b-000000000001");
  EXPECT_EQ(hook["context"]["page_path"], "/pricing");
  EXPECT_EQ(hook, PayloadOf("capture", *r.event));
}

TEST_F(TracePayloadTest, PageviewsBecomeGa4PageViews) {
  CleanResult r = EventCleaner(config_).Clean(Stamped(
      R"({"event":"pageview","deviceId":"d-12345","properties":{"path":"/a","referrer":"https://r.example/"}})"));
  ASSERT_TRUE(r.event);
  json ga = PayloadOf("ga", *r.event);
  EXPECT_EQ(ga["events"][0]["name"], "page_view");
  EXPECT_EQ(ga["events"][0]["params"]["page_location"],
            "https://shop.example/pricing?utm_source=news");
  EXPECT_EQ(ga["events"][0]["params"]["page_referrer"], "https://r.example/");
  EXPECT_EQ(Ga4Tracker::Name("purchase product"), "purchase_product");
}

// Payloads depend on the event and the config only: never the color, the role
// or the candidate's own credentials.
TEST_F(TracePayloadTest, PayloadsAreTheSameForEitherColorAndRole) {
  PipelineConfig other = config_;
  for (auto& t : other.trackers) {
    t.candidate.app_id = "staging-app";
    t.candidate_mode = t.kind == "ga4" ? "validate" : "skip";
  }
  auto green = MakeTrackers(other, {io_, nullptr, Color::kGreen, *tm_, nullptr});
  StampedEvent live = Stamped(R"({"event":"signup","deviceId":"d-1","properties":{"plan":"x"}})");
  StampedEvent candidate = live;
  candidate.role = "candidate";
  CleanResult a = EventCleaner(config_).Clean(live);
  CleanResult b = EventCleaner(other).Clean(candidate);
  ASSERT_TRUE(a.event && b.event);
  for (size_t i = 0; i < trackers_.size(); ++i) {
    EXPECT_EQ(trackers_[i]->Payload(*a.event).dump(), green[i]->Payload(*b.event).dump())
        << trackers_[i]->name();
  }
}

TEST_F(TracePayloadTest, PrivacyCorpusNeverReachesAVendorPayload) {
  auto corpus = testing::PrivacyCorpus();
  ASSERT_GE(corpus.size(), 100u);
  EventCleaner cleaner(config_);
  for (const auto& c : corpus) {
    StampedEvent e = Stamped(c.body);
    e.user_agent = c.user_agent;
    e.forwarded_for = c.forwarded_for;
    e.referer = c.referer;
    e.accept_language = c.accept_language;
    CleanResult r = cleaner.Clean(e);
    ASSERT_TRUE(r.event) << c.name << ": " << r.reject_reason;
    for (const auto& t : trackers_) {
      std::string text = t->Payload(*r.event).dump();
      for (const auto& bad : c.forbidden) {
        EXPECT_EQ(text.find(bad), std::string::npos)
            << c.name << ": '" << bad << "' reached " << t->name() << ": " << text;
      }
      if (t->name() != "capture") continue;
      for (const auto& good : c.expected) {
        EXPECT_NE(text.find(good), std::string::npos)
            << c.name << ": clean value '" << good << "' lost: " << text;
      }
    }
  }
}

}  // namespace
}  // namespace tandem::trace
