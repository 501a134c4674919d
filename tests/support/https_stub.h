// An HTTPS server for tests, speaking real TLS with a certificate from TestPki:
// a thread per connection, keep-alive, each request answered by `handler`.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/http_types.h"
#include "tests/support/test_pki.h"

namespace tandem::testing {

class HttpsStub {
 public:
  using Handler = std::function<http::Response(const http::Request&)>;
  HttpsStub(const TestPki& pki, Handler handler);
  ~HttpsStub();
  uint16_t port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace tandem::testing
