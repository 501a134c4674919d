// `tandem replay`: sends events to the splitter at a set rate, with progress.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <iostream>
#include <vector>

#include "app/commands.h"
#include "app/sample_events.h"
#include "common/config.h"
#include "common/http_client.h"

namespace tandem::app {
namespace {
using Clock = std::chrono::steady_clock;

struct Replayer {
  boost::asio::io_context io;
  boost::asio::steady_timer tick{io};
  std::shared_ptr<http::ClientPool> pool;
  ReplayOptions opt;
  std::vector<std::string> lines;
  uint64_t sent = 0, accepted = 0, failed = 0, inflight = 0;
  Clock::time_point start, last_report;

  std::string Body(uint64_t i) { return lines.empty() ? SampleEvent(i) : lines[i % lines.size()]; }

  void Pump() {
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    uint64_t due = std::min<uint64_t>(opt.count, static_cast<uint64_t>(elapsed * opt.rate) + 1);
    while (sent < due && inflight < opt.concurrency) {
      http::Request req{http::Verb::post, "/v1/events", 11};
      req.set(http::Field::content_type, "application/json");
      req.set(http::Field::user_agent, "tandem-replay");
      req.body() = Body(sent);
      ++sent;
      ++inflight;
      pool->Send(std::move(req), std::chrono::milliseconds(10000),
                 [this](boost::system::error_code ec, http::Response&& res) {
                   --inflight;
                   if (!ec && res.result_int() == 202) {
                     ++accepted;
                   } else {
                     if (failed < 5) {
                       std::cerr << "replay: "
                                 << (ec ? ec.message()
                                        : std::to_string(res.result_int()) + " " + res.body())
                                 << "\n";
                     }
                     ++failed;
                   }
                   if (sent == opt.count && inflight == 0) tick.cancel();
                 });
    }
    if (Clock::now() - last_report >= std::chrono::seconds(1)) {
      last_report = Clock::now();
      std::cerr << "replay: " << sent << "/" << opt.count << " sent, " << accepted << " accepted, "
                << failed << " failed\n";
    }
    if (sent == opt.count && inflight == 0) return;
    tick.expires_after(std::chrono::milliseconds(5));
    tick.async_wait([this](boost::system::error_code ec) {
      if (!ec || sent < opt.count || inflight > 0) Pump();
    });
  }
};

}  // namespace

int Replay(const std::string& file, const ReplayOptions& o) {
  Config c = LoadConfig(file);
  Replayer r;
  r.opt = o;
  if (!o.input.empty()) {
    std::ifstream in(o.input);
    if (!in) {
      std::cerr << o.input << ": cannot read\n";
      return 2;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) r.lines.push_back(line);
    }
    if (r.lines.empty()) {
      std::cerr << o.input << ": no events\n";
      return 2;
    }
  }
  std::string host = c.splitter.listen.host == "0.0.0.0" ? "127.0.0.1" : c.splitter.listen.host;
  r.pool = http::ClientPool::Create(r.io, http::Upstream{host, c.splitter.listen.port});
  r.start = r.last_report = Clock::now();
  r.Pump();
  r.io.run();
  double secs = std::chrono::duration<double>(Clock::now() - r.start).count();
  std::cout << "replayed " << r.sent << " events in " << secs << " s: " << r.accepted
            << " accepted (202), " << r.failed << " failed\n";
  return r.failed == 0 ? 0 : 1;
}

}  // namespace tandem::app
