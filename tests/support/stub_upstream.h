// A stand-in for a dispatcher (or compare) in tests and benchmarks: a real
// HTTP server on loopback that records what it receives and answers as told.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/http_server.h"
#include "common/io_workers.h"

namespace tandem::testing {

struct Received {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names; repeated ones joined with ", "
  std::string body;
  size_t batch_size = 1;  // events in the request it came in (a forwarder's batch)
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class StubUpstream : public http::Handler {
 public:
  // Listens on 127.0.0.1 at `port` (0: any free port).
  explicit StubUpstream(uint16_t port = 0, size_t threads = 1, bool record = true);
  ~StubUpstream() override;

  uint16_t port() const { return server_->port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }

  // Default answer: 202 {"id": X-Tandem-Id}. Status 0 means "never answer".
  // A forwarder's batch (wire::kEventBatchPath) counts and records each event,
  // answered 202 each unless set_status_for says otherwise; set_status answers
  // a batch as a whole when it is not a 2xx.
  void set_status(unsigned status) { status_ = status; }
  void set_delay(std::chrono::milliseconds d) { delay_ms_ = d.count(); }
  // Answers `status` to every request whose X-Tandem-Id is `id` (a poison event).
  void set_status_for(const std::string& id, unsigned status);
  // false: a batch is treated as one request (a service that does not speak the
  // batch protocol, answering 202 {"id": ""} to anything).
  void set_speaks_batches(bool yes) { speaks_batches_ = yes; }
  // A batch holding event `id` is answered `status` as a whole, after `delay`
  // (a proxy refusing the request, answered after the other batches).
  void set_batch_answer_for(const std::string& id, unsigned status,
                            std::chrono::milliseconds delay);
  // Overrides the body for every path (used to stand in for compare's /v1/report).
  void set_body(const std::string& body);

  size_t count() const { return count_.load(); }  // events (a batch counts each)
  size_t requests() const { return requests_.load(); }
  std::vector<Received> received() const;
  // Blocks until at least n requests arrived or `timeout` passed; returns the count.
  size_t WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  void Handle(http::Request&& req, const http::RequestInfo& info, http::Respond respond) override;

 private:
  IoWorkers workers_;
  std::unique_ptr<http::Server> server_;
  bool record_;
  std::atomic<unsigned> status_{202};
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<bool> speaks_batches_{true};
  std::atomic<size_t> count_{0};
  std::atomic<size_t> requests_{0};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Received> received_;
  std::string body_;
  std::map<std::string, unsigned> status_for_;
  std::map<std::string, std::pair<unsigned, int64_t>> batch_answer_for_;
  std::vector<http::Respond> never_answered_;
};

// A port on 127.0.0.1 with nothing listening (bound, then released).
uint16_t ClosedPort();
// `n` distinct such ports, below the system's ephemeral range (so neither a bind
// to port 0 nor an outgoing connection takes one while its listener restarts);
// each stays bound until all are chosen.
std::vector<uint16_t> ClosedPorts(size_t n);

}  // namespace tandem::testing
