#include "pipeline/trace/scrubber.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "pipeline/trace/scrub_scanners.h"

namespace tandem::trace {

std::string_view ScrubRuleName(ScrubRule r) {
  switch (r) {
    case ScrubRule::kEmail:
      return "email";
    case ScrubRule::kCard:
      return "card_number";
    case ScrubRule::kIp:
      return "ip_address";
    case ScrubRule::kPhone:
      return "phone_number";
    case ScrubRule::kBearer:
      return "bearer_token";
    case ScrubRule::kJwt:
      return "jwt";
    case ScrubRule::kSecret:
      return "secret";
    case ScrubRule::kUrlParam:
      return "url_param";
    case ScrubRule::kOverlong:
      return "overlong";
    case ScrubRule::kCount:
      break;
  }
  return "unknown";
}

Scrubber::Scrubber(const ScrubConfig& config)
    : config_(config),
      allowed_params_(config.url_allowed_params.begin(), config.url_allowed_params.end()) {}

bool Scrubber::ScrubUrls(std::string& s) const {
  return scan::StripUrlSecrets(s, [this](std::string_view name) {
    return allowed_params_.find(name) != allowed_params_.end();
  });
}

bool Scrubber::ScrubString(std::string& s, ScrubCounts& counts) const {
  bool changed = false;
  auto apply = [&](bool on, ScrubRule rule, bool hit) {
    if (on && hit) {
      ++counts[static_cast<size_t>(rule)];
      changed = true;
    }
  };
  // Cheap pre-checks keep the common case (short words, no digits) fast; the
  // order matters: URLs first (their query strings hold the other kinds), cards
  // before phone numbers (both are digit runs).
  if (config_.url_secrets) apply(true, ScrubRule::kUrlParam, ScrubUrls(s));
  if (config_.tokens) {
    apply(true, ScrubRule::kJwt, scan::ReplaceJwts(s));
    apply(true, ScrubRule::kBearer, scan::ReplaceBearerTokens(s));
    apply(true, ScrubRule::kSecret, scan::ReplaceSecrets(s));
  }
  if (config_.emails) apply(true, ScrubRule::kEmail, scan::ReplaceEmails(s));
  if (config_.card_numbers) apply(true, ScrubRule::kCard, scan::ReplaceCardNumbers(s));
  if (config_.ip_addresses) apply(true, ScrubRule::kIp, scan::ReplaceIpAddresses(s));
  if (config_.phone_numbers) apply(true, ScrubRule::kPhone, scan::ReplacePhoneNumbers(s));
  if (s.size() > config_.max_value_length) {
    size_t n = config_.max_value_length;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // UTF-8 boundary
    s.resize(n);
    apply(true, ScrubRule::kOverlong, true);
  }
  return changed;
}

void Scrubber::ScrubJson(nlohmann::json& v, ScrubCounts& counts, int depth) const {
  constexpr int kMaxDepth = 16;
  if (depth > kMaxDepth && (v.is_object() || v.is_array())) {
    v = "[too deep]";
    ++counts[static_cast<size_t>(ScrubRule::kOverlong)];
    return;
  }
  if (v.is_string()) {
    ScrubString(v.get_ref<std::string&>(), counts);
  } else if (v.is_number_integer() || v.is_number_unsigned()) {
    // A card number sent as a JSON number.
    std::string digits = v.dump();
    if (config_.card_numbers && scan::ReplaceCardNumbers(digits)) {
      v = digits;
      ++counts[static_cast<size_t>(ScrubRule::kCard)];
    }
  } else if (v.is_array()) {
    for (auto& item : v) ScrubJson(item, counts, depth + 1);
  } else if (v.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto& [key, item] : v.items()) {
      std::string k = key;
      ScrubString(k, counts);
      ScrubJson(item, counts, depth + 1);
      out[k] = std::move(item);
    }
    v = std::move(out);
  }
}

std::string AnonymizeIp(std::string_view ip) {
  std::string text(ip);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    buf[3] = 0;
    return inet_ntop(AF_INET, buf, out, sizeof out) ? out : "";
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    std::fill(buf + 6, buf + 16, 0);
    return inet_ntop(AF_INET6, buf, out, sizeof out) ? out : "";
  }
  return "";
}

}  // namespace tandem::trace
