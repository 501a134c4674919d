#include "tests/support/vendor_stub.h"

#include <algorithm>

namespace tandem::testing {

VendorStub::VendorStub(const TestPki& pki) {
  stub_ = std::make_unique<HttpsStub>(pki, [this](const http::Request& req) {
    VendorRequest r;
    r.at = std::chrono::steady_clock::now();
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (const auto& f : req) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      r.headers[name] = std::string(f.value());
    }
    r.body = req.body();
    Answer answer;
    size_t index;
    {
      std::lock_guard<std::mutex> l(mu_);
      answer = answer_;
      index = requests_.size();
    }
    http::Response res = answer ? answer(r, index) : Reply(200);
    {
      std::lock_guard<std::mutex> l(mu_);
      requests_.push_back(std::move(r));
    }
    cv_.notify_all();
    return res;
  });
}

void VendorStub::set_answer(Answer a) {
  std::lock_guard<std::mutex> l(mu_);
  answer_ = std::move(a);
}

std::vector<VendorRequest> VendorStub::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

size_t VendorStub::count() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_.size();
}

bool VendorStub::WaitUntil(const std::function<bool(const std::vector<VendorRequest>&)>& pred,
                           std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [&] { return pred(requests_); });
}

http::Response VendorStub::Reply(unsigned status, const std::string& body,
                                 std::vector<std::pair<std::string, std::string>> headers) {
  http::Response res{static_cast<http::Status>(status), 11};
  res.set(http::Field::content_type, "application/json");
  for (const auto& [k, v] : headers) res.set(k, v);
  res.body() = body;
  return res;
}

}  // namespace tandem::testing
