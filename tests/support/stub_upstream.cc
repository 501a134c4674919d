#include "tests/support/stub_upstream.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

namespace tandem::testing {

StubUpstream::StubUpstream(uint16_t port, size_t threads, bool record)
    : workers_(threads), record_(record) {
  http::ServerOptions o;
  o.body_limit = 16 << 20;
  server_ = std::make_unique<http::Server>(workers_, HostPort{"127.0.0.1", port}, o, *this);
  server_->Start();
  workers_.Start();
}

StubUpstream::~StubUpstream() {
  workers_.Stop();
  workers_.Join();
}

void StubUpstream::set_body(const std::string& body) {
  std::lock_guard<std::mutex> l(mu_);
  body_ = body;
}

void StubUpstream::set_status_for(const std::string& id, unsigned status) {
  std::lock_guard<std::mutex> l(mu_);
  status_for_[id] = status;
}

std::vector<Received> StubUpstream::received() const {
  std::lock_guard<std::mutex> l(mu_);
  return received_;
}

size_t StubUpstream::WaitFor(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, timeout, [&] { return count_.load() >= n; });
  return count_.load();
}

void StubUpstream::Handle(http::Request&& req, const http::RequestInfo& info,
                          http::Respond respond) {
  std::string id(req["X-Tandem-Id"]);
  std::string body;
  unsigned status = status_.load();
  {
    std::lock_guard<std::mutex> l(mu_);
    body = body_;
    if (auto it = status_for_.find(id); it != status_for_.end()) status = it->second;
    if (record_) {
      Received r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        auto& slot = r.headers[name];
        slot = slot.empty() ? std::string(f.value()) : slot + ", " + std::string(f.value());
      }
      r.body = std::move(req.body());
      received_.push_back(std::move(r));
    }
    count_.fetch_add(1);
  }
  cv_.notify_all();
  if (status == 0) {
    std::lock_guard<std::mutex> l(mu_);
    never_answered_.push_back(std::move(respond));
    return;
  }
  if (body.empty()) body = nlohmann::json{{"id", id}}.dump();
  auto res = http::MakeResponse(static_cast<http::Status>(status), body);
  int64_t delay = delay_ms_.load();
  if (delay <= 0) return respond(std::move(res));
  auto timer = std::make_shared<boost::asio::steady_timer>(workers_.context(info.worker),
                                                           std::chrono::milliseconds(delay));
  timer->async_wait([timer, res = std::move(res), respond = std::move(respond)](
                        boost::system::error_code) mutable { respond(std::move(res)); });
}

uint16_t ClosedPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace tandem::testing
