// The data scrubber: every value trace lets through is cleaned of personal data
// and secrets before any vendor, capture file or Sentry sees it (SPEC section 6).
// Hand-written scanners rather than std::regex: they run on every value of
// every event, and std::regex is both slow and prone to deep recursion on long input.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "common/config.h"

namespace tandem::trace {

// What a scrub replaced; also the `rule` label of the scrubbed-values metric.
enum class ScrubRule : uint8_t {
  kEmail,
  kCard,
  kIp,
  kPhone,
  kBearer,
  kJwt,
  kSecret,
  kUrlParam,
  kOverlong,
  kCount
};
std::string_view ScrubRuleName(ScrubRule r);

// How many values each rule changed.
using ScrubCounts = std::array<uint32_t, static_cast<size_t>(ScrubRule::kCount)>;

class Scrubber {
 public:
  explicit Scrubber(const ScrubConfig& config);

  // Cleans one string in place; returns whether it changed.
  bool ScrubString(std::string& s, ScrubCounts& counts) const;
  // Cleans every string (object keys too) and every number that is a card number.
  void ScrubJson(nlohmann::json& v, ScrubCounts& counts, int depth = 0) const;

 private:
  bool ScrubUrls(std::string& s) const;
  ScrubConfig config_;
  std::set<std::string, std::less<>> allowed_params_;
};

// The client's address with its host part cleared (IPv4 /24, IPv6 /48), as
// analytics tools anonymise it; empty when `ip` is not an address.
std::string AnonymizeIp(std::string_view ip);

}  // namespace tandem::trace
