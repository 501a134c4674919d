// `tandem replay`: sends events to the splitter at a set rate, with a progress
// bar (a line per second when stderr is not a terminal) and a summary.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "app/commands.h"
#include "app/progress.h"
#include "app/sample_events.h"
#include "common/config.h"
#include "common/http_client.h"

namespace tandem::app {
namespace {
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Replayer {
  boost::asio::io_context io;
  boost::asio::steady_timer tick{io};
  std::shared_ptr<http::ClientPool> pool;
  ReplayOptions opt;
  std::vector<std::string> lines;
  std::ofstream ids_out;
  uint64_t sent = 0, accepted = 0, failed = 0, inflight = 0;
  std::map<std::string, uint64_t> failures;  // "502", "connection refused", ...
  std::vector<float> latency_ms;             // of accepted events
  Clock::time_point start;
  Progress progress{"replay"};

  std::string Body(uint64_t i) { return lines.empty() ? SampleEvent(i) : lines[i % lines.size()]; }

  void Done(boost::system::error_code ec, http::Response&& res, Clock::time_point sent_at) {
    --inflight;
    if (!ec && res.result_int() == 202) {
      ++accepted;
      latency_ms.push_back(static_cast<float>(Ms(Clock::now() - sent_at)));
      if (ids_out.is_open()) {
        auto j = nlohmann::json::parse(res.body(), nullptr, false);
        if (j.is_object() && j["id"].is_string()) ids_out << j["id"].get<std::string>() << "\n";
      }
    } else {
      ++failed;
      ++failures[ec ? ec.message() : std::to_string(res.result_int())];
    }
    if (sent == opt.count && inflight == 0) tick.cancel();
  }

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
                 [this, at = Clock::now()](boost::system::error_code ec, http::Response&& res) {
                   Done(ec, std::move(res), at);
                 });
    }
    progress.Update(sent, opt.count, Tail());
    if (sent == opt.count && inflight == 0) return;
    tick.expires_after(std::chrono::milliseconds(5));
    tick.async_wait([this](boost::system::error_code ec) {
      if (!ec || sent < opt.count || inflight > 0) Pump();
    });
  }

  std::string Tail() const {
    double secs = std::max(1e-3, std::chrono::duration<double>(Clock::now() - start).count());
    char tail[160];
    std::snprintf(tail, sizeof tail, "%llu/%llu sent, %llu accepted, %llu failed, %.0f ev/s",
                  static_cast<unsigned long long>(sent), static_cast<unsigned long long>(opt.count),
                  static_cast<unsigned long long>(accepted),
                  static_cast<unsigned long long>(failed), static_cast<double>(sent) / secs);
    return tail;
  }

  void Summary(std::ostream& out) {
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    char line[200];
    std::snprintf(line, sizeof line, "replayed %llu events in %.1f s (%.0f/s): %llu accepted (202)",
                  static_cast<unsigned long long>(sent), secs, static_cast<double>(sent) / secs,
                  static_cast<unsigned long long>(accepted));
    out << line;
    if (failed) {
      out << ", " << failed << " failed (";
      const char* sep = "";
      for (const auto& [why, n] : failures) {
        out << sep << n << " " << why;
        sep = ", ";
      }
      out << ")";
    }
    out << "\n";
    if (latency_ms.empty()) return;
    std::sort(latency_ms.begin(), latency_ms.end());
    auto q = [&](double p) {
      return latency_ms[std::min(latency_ms.size() - 1,
                                 static_cast<size_t>(p * static_cast<double>(latency_ms.size())))];
    };
    std::snprintf(line, sizeof line,
                  "latency of accepted events: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", q(0.5),
                  q(0.99), latency_ms.back());
    out << line;
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
  if (!o.accepted_ids.empty()) {
    r.ids_out.open(o.accepted_ids, std::ios::trunc);
    if (!r.ids_out) {
      std::cerr << o.accepted_ids << ": cannot write\n";
      return 2;
    }
  }
  std::string host = c.splitter.listen.host == "0.0.0.0" ? "127.0.0.1" : c.splitter.listen.host;
  r.pool = http::ClientPool::Create(r.io, http::Upstream{host, c.splitter.listen.port});
  r.latency_ms.reserve(std::min<uint64_t>(o.count, 10'000'000));
  r.start = Clock::now();
  r.Pump();
  r.io.run();
  r.progress.Finish(r.sent, r.opt.count, r.Tail());
  r.ids_out.close();
  r.Summary(std::cout);
  return r.failed == 0 ? 0 : 1;
}

}  // namespace tandem::app
