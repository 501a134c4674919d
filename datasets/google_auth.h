// Google's service-account OAuth 2.0 JWT bearer flow (RFC 7523): a JWT signed
// RS256 with the account's key is exchanged at token_uri for an access token,
// which is cached and refreshed before it expires, one refresh at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "common/status.h"
#include "common/sync_client.h"
#include "common/url.h"

namespace tandem {

struct ServiceAccount {
  std::string client_email;
  std::string private_key_pem;
  std::string private_key_id;
  // The key file's own `token_uri` (Google's libraries use it); Google's when absent.
  std::string token_uri;
};

inline constexpr const char* kGoogleTokenUri = "https://oauth2.googleapis.com/token";

// Reads a service-account JSON key file. Throws with a message naming what is missing.
ServiceAccount LoadServiceAccount(const std::string& file);

// header.claims.signature, RS256. Empty when the key cannot sign.
std::string MakeJwt(const ServiceAccount& sa, const std::string& scope, const std::string& audience,
                    int64_t issued_at_s, int64_t lifetime_s = 3600);

class TokenSource {
 public:
  static constexpr const char* kBigQueryScope = "https://www.googleapis.com/auth/bigquery";
  // Refreshes this long before the token's expiry.
  static constexpr std::chrono::seconds kRefreshEarly{300};

  // Throws when sa.token_uri is not an https:// URL (startup).
  TokenSource(ServiceAccount sa, std::string scope, const std::string& ca_file);

  // A valid access token in `out`; fetches a new one when none is cached or it
  // expires within kRefreshEarly. Thread-safe; concurrent callers share one refresh.
  Status Token(std::string& out);
  // Forgets the cached token (after a 401).
  void Invalidate();

 private:
  static Url TokenUrl(const std::string& uri);

  ServiceAccount sa_;
  std::string scope_;
  Url token_url_;
  std::mutex mu_;
  http::SyncClient client_;
  std::string token_;
  std::chrono::steady_clock::time_point expires_{};
};

}  // namespace tandem
