// A stand-in analytics vendor (or Sentry) over real TLS: records every request
// and answers as the test says (default 200 "{}"). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/http_types.h"
#include "tests/support/https_stub.h"

namespace tandem::testing {

struct VendorRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::chrono::steady_clock::time_point at;  // when it arrived
  nlohmann::json json() const {
    return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  }
};

class VendorStub {
 public:
  // Gets each request and how many came before it; returns the answer.
  using Answer = std::function<http::Response(const VendorRequest&, size_t index)>;
  explicit VendorStub(const TestPki& pki);
  std::string url() const { return stub_->url(); }
  void set_answer(Answer a);
  std::vector<VendorRequest> requests() const;
  size_t count() const;
  // Waits until `pred` holds for the requests so far (or `timeout`); returns whether it did.
  bool WaitUntil(const std::function<bool(const std::vector<VendorRequest>&)>& pred,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  static http::Response Reply(unsigned status, const std::string& body = "{}",
                              std::vector<std::pair<std::string, std::string>> headers = {});

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<VendorRequest> requests_;
  Answer answer_;
  std::unique_ptr<HttpsStub> stub_;
};

}  // namespace tandem::testing
