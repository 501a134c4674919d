#include "datasets/google_auth.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/url_encode.h"

namespace tandem {
ServiceAccount LoadServiceAccount(const std::string& file) {
  std::string text;
  if (!ReadFile(file, text))
    throw std::runtime_error(file + ": cannot read the service-account key");
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) throw std::runtime_error(file + ": not a service-account JSON key");
  ServiceAccount sa;
  for (auto [key, field] : {std::pair{"client_email", &sa.client_email},
                            std::pair{"private_key", &sa.private_key_pem}}) {
    if (!j.contains(key) || !j[key].is_string())
      throw std::runtime_error(file + ": the key has no \"" + key + "\"");
    *field = j[key].get<std::string>();
  }
  sa.private_key_id = j.value("private_key_id", "");
  sa.token_uri = j.contains("token_uri") && j["token_uri"].is_string()
                     ? j["token_uri"].get<std::string>()
                     : std::string(kGoogleTokenUri);
  return sa;
}

std::string MakeJwt(const ServiceAccount& sa, const std::string& scope, const std::string& audience,
                    int64_t iat, int64_t lifetime_s) {
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!sa.private_key_id.empty()) header["kid"] = sa.private_key_id;
  nlohmann::json claims = {{"iss", sa.client_email},
                           {"scope", scope},
                           {"aud", audience},
                           {"iat", iat},
                           {"exp", iat + lifetime_s}};
  std::string signing_input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());

  BIO* bio =
      BIO_new_mem_buf(sa.private_key_pem.data(), static_cast<int>(sa.private_key_pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (!key) return "";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig;
  size_t len = 0;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
      sig.clear();
    }
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (sig.empty()) return "";
  return signing_input + "." + Base64Url(sig);
}

Url TokenSource::TokenUrl(const std::string& uri) {
  auto u = Url::Parse(uri);
  if (!u || !u->tls)
    throw std::runtime_error("token_uri must be an https:// URL, got '" + uri + "'");
  return *u;
}

TokenSource::TokenSource(ServiceAccount sa, std::string scope, const std::string& ca_file)
    : sa_(std::move(sa)),
      scope_(std::move(scope)),
      token_url_(TokenUrl(sa_.token_uri)),
      client_(token_url_, ca_file) {}

Status TokenSource::Token(std::string& out) {
  std::lock_guard<std::mutex> l(mu_);  // one refresh at a time; the others wait and share it
  auto now = std::chrono::steady_clock::now();
  if (!token_.empty() && now + kRefreshEarly < expires_) {
    out = token_;
    return {};
  }
  int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string jwt = MakeJwt(sa_, scope_, sa_.token_uri, iat);
  if (jwt.empty()) {
    return {std::make_error_code(std::errc::invalid_argument),
            "cannot sign the JWT with the service account's private_key"};
  }
  http::Request req{http::Verb::post, token_url_.target, 11};
  req.set(http::Field::content_type, "application/x-www-form-urlencoded");
  req.body() = "grant_type=" + PercentEncode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
               "&assertion=" + jwt;
  auto r = client_.Send(std::move(req), std::chrono::seconds(30));
  if (r.ec) {
    return {std::make_error_code(std::errc::host_unreachable),
            "token endpoint " + token_url_.Origin() + ": " + r.ec.message()};
  }
  auto j = nlohmann::json::parse(r.res.body(), nullptr, false);
  if (r.res.result_int() != 200 || !j.is_object() || !j.contains("access_token") ||
      !j["access_token"].is_string()) {
    return {std::make_error_code(std::errc::permission_denied),
            "token endpoint answered " + std::to_string(r.res.result_int()) + ": " +
                r.res.body().substr(0, 300)};
  }
  token_ = j["access_token"].get<std::string>();
  int64_t ttl = j.contains("expires_in") && j["expires_in"].is_number_integer()
                    ? j["expires_in"].get<int64_t>()
                    : 3600;
  expires_ = now + std::chrono::seconds(ttl);
  out = token_;
  return {};
}

void TokenSource::Invalidate() {
  std::lock_guard<std::mutex> l(mu_);
  token_.clear();
}

}  // namespace tandem
