#include "common/sha256.h"

#include <openssl/evp.h>

namespace tandem {
namespace {

// OpenSSL 3's one-shot SHA256() looks the algorithm up in its providers on
// every call (about 340 ns for a short input here); one fetched digest and a
// context reused per thread take about 80 ns. The splitter hashes a deviceId
// per request below mirror_fraction 1, trace a payload per delivery.
// (EVP_sha256(), OpenSSL's built-in, where a provider configuration offers no fetch.)
const EVP_MD* Sha256() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : EVP_sha256();
  }();
  return md;
}

struct ThreadContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~ThreadContext() { EVP_MD_CTX_free(ctx); }
};

void Digest(std::string_view data, unsigned char (&out)[32]) {
  thread_local ThreadContext t;
  unsigned int n = 0;
  if (t.ctx && EVP_DigestInit_ex2(t.ctx, Sha256(), nullptr) == 1 &&
      EVP_DigestUpdate(t.ctx, data.data(), data.size()) == 1 &&
      EVP_DigestFinal_ex(t.ctx, out, &n) == 1 && n == 32) {
    return;
  }
  // The slow path, never expected: a fresh context for this one digest.
  EVP_Digest(data.data(), data.size(), out, &n, EVP_sha256(), nullptr);
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[32];
  Digest(data, digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * sizeof digest, '0');
  for (size_t i = 0; i < sizeof digest; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

uint64_t Sha256Prefix64(std::string_view data) {
  unsigned char digest[32];
  Digest(data, digest);
  uint64_t out = 0;
  for (int i = 0; i < 8; ++i) out = out << 8 | digest[i];
  return out;
}

}  // namespace tandem
