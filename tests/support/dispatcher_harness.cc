#include "tests/support/dispatcher_harness.h"

#include <signal.h>
#include <sqlite3.h>

#include <cstdio>
#include <future>
#include <thread>

#include "tests/support/metrics_scrape.h"

namespace tandem::testing {

std::string TestId(int i) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "0190a1b2-c3d4-7e5f-8a9b-%012d", i);
  return buf;
}

std::string EventBody(int i) {
  if (i % 10 == 7) return std::string("not json \x01\xff\x00 tail ", 18) + std::to_string(i);
  return R"({"event":"pageview","deviceId":"d-)" + std::to_string(i) +
         R"(","properties":{"path":"/p"}})";
}

std::vector<std::string> PostAll(DispatcherHarness& h, int from, int to) {
  std::vector<std::string> acked;
  for (int base = from; base < to; base += 8) {
    std::vector<std::future<unsigned>> f;
    for (int i = base; i < std::min(to, base + 8); ++i) {
      f.push_back(std::async(std::launch::async, [&h, i] {
        return h.Post(TestId(i), 1700000000000 + i, EventBody(i));
      }));
    }
    for (int i = base; i < std::min(to, base + 8); ++i) {
      if (f[i - base].get() == 202) acked.push_back(TestId(i));
    }
  }
  return acked;
}

bool LeaveBacklog(DispatcherHarness& h, int from, int to) {
  if (PostAll(h, from, to).size() != static_cast<size_t>(to - from)) return false;
  if (h.Stop() != 0) return false;
  h.StartTrace();
  return true;
}

DispatcherHarness::DispatcherHarness(bool trace_up, const std::string& dataset_yaml,
                                     const std::string& extra_yaml, const std::string& blue_yaml) {
  if (trace_up) {
    trace = std::make_unique<StubUpstream>();
    trace_port = trace->port();
  } else {
    trace_port = ClosedPort();
  }
  config.blue.trace_listen = "127.0.0.1:" + std::to_string(trace_port);
  config.blue.dataset = dataset_yaml;
  config.blue.extra = "    spool_dir: spool-{color}\n" + blue_yaml;
  config.extra = extra_yaml;
  config.Write(dir.path());
}

void DispatcherHarness::Rewrite() { config.Write(dir.path()); }

void DispatcherHarness::Start() {
  proc = std::make_unique<Process>(
      std::vector<std::string>{TandemBinary(), "dispatcher", "-c", dir.path() + "/tandem.yaml",
                               "--color", "blue"},
      std::vector<std::string>{}, ProcessLimits{.file_size = file_size_limit});
  auto line = proc->WaitForLog("listening");
  if (!line) throw std::runtime_error("the dispatcher did not start:\n" + proc->Output());
  port = (*line)["port"].get<uint16_t>();
}

void DispatcherHarness::Kill() {
  proc->Signal(SIGKILL);
  proc->Wait();
}

std::optional<int> DispatcherHarness::Stop() {
  proc->Signal(SIGTERM);
  return proc->Wait();
}

void DispatcherHarness::StartTrace() { trace = std::make_unique<StubUpstream>(trace_port); }

unsigned DispatcherHarness::Post(const std::string& id, int64_t received_at,
                                 const std::string& body, const std::string& mirror) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Tandem-Id", id},
      {"X-Tandem-Received-At", std::to_string(received_at)},
      {"X-Tandem-Role", "live"},
      {"User-Agent", "test-agent"}};
  if (!mirror.empty()) headers.emplace_back("X-Tandem-Mirror", mirror);
  auto r =
      http::FetchWith(http::Verb::post, "http://127.0.0.1:" + std::to_string(port) + "/v1/events",
                      body, "application/json", headers, std::chrono::seconds(10));
  return r.ec ? 0 : r.res.result_int();
}

double DispatcherHarness::WaitForMetric(const std::string& sample, double value,
                                        std::chrono::milliseconds timeout) {
  return testing::WaitForMetric(MetricsUrl(), sample, value, timeout);
}

double DispatcherHarness::Metric(const std::string& sample) {
  return ScrapeMetric(MetricsUrl(), sample);
}

std::string DispatcherHarness::MetricsUrl() const {
  return "http://127.0.0.1:" + std::to_string(port) + "/metrics";
}

size_t DispatcherHarness::WaitForRawRows(size_t n, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t have = RawRows().size();
  while (have != n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the loader commits in batches
    have = RawRows().size();
  }
  return have;
}

std::map<std::string, std::string> DispatcherHarness::RawRows() const {
  std::map<std::string, std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT tandem_id, data FROM raw", -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string id(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
      const char* data = reinterpret_cast<const char*>(sqlite3_column_blob(st, 1));
      out[id] = std::string(data ? data : "", static_cast<size_t>(sqlite3_column_bytes(st, 1)));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace tandem::testing
