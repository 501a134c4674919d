// Events carrying personal data and secrets in every position trace must clean:
// allowed property values (plain, in free text, nested, in arrays, as object keys,
// as JSON numbers), properties off the allowlist, userId, deviceId, and the
// headers trace builds its context from. Each case lists what must never reach a
// vendor, a capture file or Sentry, and the clean values that must arrive intact.
#pragma once

#include <string>
#include <vector>

namespace tandem::testing {

struct PrivacyCase {
  std::string name;  // "email in free text", ...
  std::string body;  // the Sparrow event
  std::string user_agent, forwarded_for, referer, accept_language;
  std::vector<std::string> forbidden;  // substrings that must appear nowhere downstream
  std::vector<std::string> expected;   // clean values that must arrive as they are
};

// At least 100 cases. Allowlist they assume: `signup: [plan, note, meta, tags, page]`.
std::vector<PrivacyCase> PrivacyCorpus();

// The pipeline.allowlist YAML (indented for a `pipeline:` section) the corpus assumes.
std::string PrivacyAllowlistYaml();

}  // namespace tandem::testing
