// A stand-in dispatcher (or trace) for benchmarks: answers POSTs with 202 (a
// forwarder's batch with 200 for each event) after an optional delay, counts
// the events, and reports the count at GET /count.
#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>

#include "common/event_batch.h"
#include "common/http_server.h"
#include "common/io_workers.h"
#include "common/wire.h"

namespace {

class BenchUpstream : public tandem::http::Handler {
 public:
  BenchUpstream(tandem::IoWorkers& w, int delay_ms) : workers_(w), delay_ms_(delay_ms) {}

  void Handle(tandem::http::Request&& req, const tandem::http::RequestInfo& info,
              tandem::http::Respond respond) override {
    using namespace tandem::http;
    if (req.target() == "/count") {
      return respond(MakeResponse(Status::ok, std::to_string(count_.load()), "text/plain"));
    }
    Response res;
    std::vector<tandem::BatchedEvent> events;
    std::string error;
    if (req.target() == tandem::wire::kEventBatchPath &&
        tandem::ParseEventBatch(req.body(), events, error)) {
      // Standing in for trace: every event of the forwarder's batch taken.
      count_.fetch_add(events.size(), std::memory_order_relaxed);
      res = MakeResponse(Status::ok,
                         tandem::EncodeBatchAnswer(std::vector<unsigned>(events.size(), 200)));
    } else {
      count_.fetch_add(1, std::memory_order_relaxed);
      res = MakeResponse(Status::accepted, "{\"id\":\"" + std::string(req["X-Tandem-Id"]) + "\"}");
    }
    if (delay_ms_ <= 0) return respond(std::move(res));
    auto t = std::make_shared<boost::asio::steady_timer>(workers_.context(info.worker),
                                                         std::chrono::milliseconds(delay_ms_));
    t->async_wait([t, res = std::move(res), respond = std::move(respond)](
                      boost::system::error_code) mutable { respond(std::move(res)); });
  }

 private:
  tandem::IoWorkers& workers_;
  int delay_ms_;
  std::atomic<uint64_t> count_{0};
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"benchmark upstream"};
  uint16_t port = 0;
  int delay_ms = 0;
  size_t threads = 1;
  app.add_option("--port", port)->required();
  app.add_option("--delay-ms", delay_ms);
  app.add_option("--threads", threads);
  CLI11_PARSE(app, argc, argv);
  tandem::IoWorkers workers(threads);
  BenchUpstream handler(workers, delay_ms);
  tandem::http::ServerOptions o;
  tandem::http::Server server(workers, {"127.0.0.1", port}, o, handler);
  boost::asio::signal_set signals(workers.context(0), SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code, int) { workers.Stop(); });
  server.Start();
  workers.Start();
  std::cout << "listening " << server.port() << std::endl;
  workers.Join();
  return 0;
}
