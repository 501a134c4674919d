// The stand-in vendors a trace test runs against (GA4, Amplitude, Heap, a
// webhook and Sentry, each over TLS with the test's CA), the pipeline config
// pointing trace at them, and the events tests send.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_pki.h"
#include "tests/support/trace_harness.h"
#include "tests/support/vendor_stub.h"

namespace tandem::testing {

struct TrackerOptions {
  int linger_ms = 5;
  int timeout_ms = 2000;
  int max_attempts = 3;
  bool record_payloads = true;
};

struct Vendors {
  Vendors();
  TestPki pki;
  VendorStub ga, amplitude, heap, webhook, sentry;

  // The whole `pipeline:` section: the five trackers (ga, amp, heap, hooks,
  // capture) and Sentry, with the privacy corpus's allowlist.
  std::string PipelineYaml(const TrackerOptions& o = {}) const;
  // The secrets and the Sentry DSN, as NAME=VALUE.
  std::vector<std::string> Env() const;
};

// Event i: a signup from device dev-0001 (user-0001), an e-mail in a property.
StampedPost Event(int i);

std::string ReadFile(const std::string& path);

struct SentryEnvelope {
  nlohmann::json header, item, event;
};
SentryEnvelope ParseEnvelope(const std::string& body);

}  // namespace tandem::testing
