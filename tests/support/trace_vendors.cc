#include "tests/support/trace_vendors.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/support/privacy_corpus.h"

namespace tandem::testing {

Vendors::Vendors() : ga(pki), amplitude(pki), heap(pki), webhook(pki), sentry(pki) {}

std::string Vendors::PipelineYaml(const TrackerOptions& o) const {
  std::string common = ", timeout_ms: " + std::to_string(o.timeout_ms) +
                       ", max_attempts: " + std::to_string(o.max_attempts) +
                       ", linger_ms: " + std::to_string(o.linger_ms) + " }\n";
  std::ostringstream y;
  y << "pipeline:\n"
    << PrivacyAllowlistYaml() << "  record_payloads: " << (o.record_payloads ? "true" : "false")
    << "\n"
    << "  tls: { ca_file: \"" << pki.ca_cert << "\" }\n"
    << "  sentry: { dsn_env: TANDEM_TEST_SENTRY_DSN }\n"
    << "  trackers:\n"
    << "    - { name: ga, kind: ga4, endpoint: \"" << ga.url()
    << "\", measurement_id: G-TEST, api_secret_env: TANDEM_TEST_GA_SECRET" << common
    << "    - { name: amp, kind: amplitude, endpoint: \"" << amplitude.url()
    << "\", api_key_env: TANDEM_TEST_AMP_KEY" << common
    << "    - { name: heap, kind: heap, endpoint: \"" << heap.url()
    << "\", app_id: \"4242\", candidate_mode: staging, candidate: { endpoint: \"" << heap.url()
    << "\", app_id: staging-4343 }" << common << "    - { name: hooks, kind: webhook, endpoint: \""
    << webhook.url() << "/hooks/tandem\"" << common
    << "    - { name: capture, kind: capture, path: \"capture-{color}.jsonl\"" << common;
  return y.str();
}

std::vector<std::string> Vendors::Env() const {
  std::string sentry_host = sentry.url().substr(std::string("https://").size());
  return {"TANDEM_TEST_GA_SECRET=ga-secret-1", "TANDEM_TEST_AMP_KEY=amp-key-1",
          "TANDEM_TEST_SENTRY_DSN=https://publickey1@" + sentry_host + "/42"};
}

StampedPost Event(int i) {
  char id[40];
  std::snprintf(id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012d", i);
  StampedPost p;
  p.id = id;
  p.received_at = 1764323791000 + i;
  p.body = R"({"event":"signup","deviceId":"dev-0001","userId":"user-0001",)"
           R"("properties":{"plan":"pro","note":"mail alice@example.com","ssn":"123-45-6789"}})";
  p.headers = {{"User-Agent", "Mozilla/5.0 Test"},
               {"X-Forwarded-For", "198.51.100.24"},
               {"Referer", "https://shop.example/pricing?utm_source=news&session=s3cr3t"},
               {"Accept-Language", "en-US,en;q=0.8"}};
  return p;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

SentryEnvelope ParseEnvelope(const std::string& body) {
  SentryEnvelope e;
  size_t a = body.find('\n');
  size_t b = body.find('\n', a + 1);
  e.header = nlohmann::json::parse(body.substr(0, a), nullptr, false);
  e.item = nlohmann::json::parse(body.substr(a + 1, b - a - 1), nullptr, false);
  size_t length = e.item.value("length", 0);
  e.event = nlohmann::json::parse(body.substr(b + 1, length), nullptr, false);
  return e;
}

}  // namespace tandem::testing
