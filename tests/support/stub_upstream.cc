#include "tests/support/stub_upstream.h"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <stdexcept>
#include <tuple>

#include "common/event_batch.h"
#include "common/wire.h"

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

void StubUpstream::set_batch_answer_for(const std::string& id, unsigned status,
                                        std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> l(mu_);
  batch_answer_for_[id] = {status, delay.count()};
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

namespace {

// Lower-case names; repeated ones joined with ", ".
void AddHeader(Received& r, std::string_view name, std::string_view value) {
  std::string lower(name);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto& slot = r.headers[lower];
  slot = slot.empty() ? std::string(value) : slot + ", " + std::string(value);
}

Received Record(const http::Request& req) {
  Received r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& f : req) AddHeader(r, f.name_string(), f.value());
  r.body = req.body();
  return r;
}

// One event of a forwarder's batch, recorded as if it had come alone.
Received Record(const BatchedEvent& e, size_t batch_size) {
  Received r;
  r.batch_size = batch_size;
  r.method = "POST";
  r.target = std::string(wire::kEventBatchPath);
  for (const auto& [k, v] : e.headers) AddHeader(r, k, v);
  r.body = std::string(e.body);
  return r;
}

}  // namespace

void StubUpstream::Handle(http::Request&& req, const http::RequestInfo& info,
                          http::Respond respond) {
  // A batch stands for its events: each is recorded and counted, and answered
  // with its own status (set_status_for); set_status answers the whole request,
  // like a trace that is down or broken. An event never answered holds the batch.
  std::vector<BatchedEvent> events;
  std::string error;
  const bool batch = speaks_batches_ && req.target() == wire::kEventBatchPath &&
                     ParseEventBatch(req.body(), events, error);
  std::string id(req["X-Tandem-Id"]);
  std::string body;
  unsigned status = status_.load();
  int64_t delay = delay_ms_.load();
  std::vector<unsigned> statuses;
  requests_.fetch_add(1);
  {
    std::lock_guard<std::mutex> l(mu_);
    body = body_;
    if (batch) {
      bool hold = false;
      std::optional<std::pair<unsigned, int64_t>> whole;
      for (const auto& e : events) {
        if (auto it = batch_answer_for_.find(std::string(e.header(wire::kTandemId)));
            it != batch_answer_for_.end()) {
          whole = it->second;
        }
        unsigned s = 202;
        if (auto it = status_for_.find(std::string(e.header(wire::kTandemId)));
            it != status_for_.end()) {
          s = it->second;
        }
        hold |= s == 0;
        statuses.push_back(s);
        if (record_) received_.push_back(Record(e, events.size()));
      }
      count_.fetch_add(events.size());
      if (whole) {
        std::tie(status, delay) = *whole;
      } else if (status >= 200 && status < 300) {
        status = hold ? 0 : 200;
        body = EncodeBatchAnswer(statuses);
      }
    } else {
      if (auto it = status_for_.find(id); it != status_for_.end()) status = it->second;
      if (record_) received_.push_back(Record(req));
      count_.fetch_add(1);
    }
  }
  cv_.notify_all();
  if (status == 0) {
    std::lock_guard<std::mutex> l(mu_);
    never_answered_.push_back(std::move(respond));
    return;
  }
  if (body.empty()) body = nlohmann::json{{"id", id}}.dump();
  auto res = http::MakeResponse(static_cast<http::Status>(status), body);
  if (delay <= 0) return respond(std::move(res));
  auto timer = std::make_shared<boost::asio::steady_timer>(workers_.context(info.worker),
                                                           std::chrono::milliseconds(delay));
  timer->async_wait([timer, res = std::move(res), respond = std::move(respond)](
                        boost::system::error_code) mutable { respond(std::move(res)); });
}

namespace {

// The first port of the system's ephemeral range (bind to port 0 and outgoing
// connections take ports from it).
uint16_t EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 32768;
  in >> low;
  return static_cast<uint16_t>(std::clamp(low, 4096u, 65535u));
}

}  // namespace

// Ports below the ephemeral range: the system never hands one of them out on
// its own, so a port stays free while the listener a test put there restarts
// (an outgoing connection once took an etcd member's port while it was down).
std::vector<uint16_t> ClosedPorts(size_t n) {
  const uint16_t high = EphemeralLow();
  const uint16_t low = static_cast<uint16_t>(std::max(1024, high - 12000));
  const size_t span = high - low;
  // One cursor per process, from a random start: successive calls never hand
  // out the same port until the span is used up, and the two test processes
  // ctest runs at once start far apart.
  static std::mutex mutex;
  static size_t cursor = std::random_device{}() % span;
  std::lock_guard lock(mutex);
  boost::asio::io_context io;
  std::vector<boost::asio::ip::tcp::acceptor> held;  // until all are chosen
  std::vector<uint16_t> ports;
  for (size_t tried = 0; ports.size() < n && tried < span; ++tried) {
    auto port = static_cast<uint16_t>(low + cursor++ % span);
    boost::asio::ip::tcp::acceptor a(io);
    boost::system::error_code ec;
    a.open(boost::asio::ip::tcp::v4(), ec);
    if (!ec) a.bind({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) continue;  // in use
    held.push_back(std::move(a));
    ports.push_back(port);
  }
  if (ports.size() < n)
    throw std::runtime_error("no free loopback ports below the ephemeral range");
  return ports;
}

uint16_t ClosedPort() { return ClosedPorts(1)[0]; }

}  // namespace tandem::testing
