#include "tests/support/trace_harness.h"

#include <signal.h>

#include "common/event_batch.h"
#include "common/fetch.h"
#include "common/wire.h"

namespace tandem::testing {

TraceHarness::TraceHarness(const std::string& pipeline_yaml, const std::string& color)
    : color(color) {
  config.blue.extra = "    spool_dir: spool-{color}\n";
  config.green.extra = "    spool_dir: spool-{color}\n";
  config.extra = pipeline_yaml;
  config.Write(dir.path());
}

void TraceHarness::Start(std::vector<std::string> env) {
  proc = std::make_unique<Process>(
      std::vector<std::string>{TandemBinary(), "trace", "-c", dir.path() + "/tandem.yaml",
                               "--color", color},
      std::move(env));
  auto line = proc->WaitForLog("listening");
  if (!line) throw std::runtime_error("trace did not start:\n" + proc->Output());
  port = (*line)["port"].get<uint16_t>();
}

void TraceHarness::Kill() {
  proc->Signal(SIGKILL);
  proc->Wait();
}

std::optional<int> TraceHarness::Stop() {
  proc->Signal(SIGTERM);
  return proc->Wait();
}

namespace {

std::vector<std::pair<std::string, std::string>> Stamps(const StampedPost& p) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Tandem-Id", p.id},
      {"X-Tandem-Received-At", std::to_string(p.received_at)},
      {"X-Tandem-Role", p.role}};
  if (p.redelivery) headers.emplace_back("X-Tandem-Redelivery", "1");
  headers.insert(headers.end(), p.headers.begin(), p.headers.end());
  return headers;
}

}  // namespace

unsigned TraceHarness::Post(const StampedPost& p) {
  auto headers = Stamps(p);
  auto r =
      http::FetchWith(http::Verb::post, "http://127.0.0.1:" + std::to_string(port) + "/v1/events",
                      p.body, "text/plain", headers, std::chrono::seconds(20));
  return r.ec ? 0 : r.res.result_int();
}

unsigned TraceHarness::PostBatch(const std::vector<StampedPost>& posts,
                                 std::vector<unsigned>& statuses) {
  std::string bytes;
  for (const auto& p : posts) {
    auto stamps = Stamps(p);
    std::vector<BatchHeader> headers(stamps.begin(), stamps.end());
    if (!AppendBatchedEvent(bytes, headers, p.body)) return 0;
  }
  auto r = http::FetchWith(
      http::Verb::post,
      "http://127.0.0.1:" + std::to_string(port) + std::string(wire::kEventBatchPath), bytes,
      std::string(wire::kEventBatchType), {}, std::chrono::seconds(20));
  if (r.ec) return 0;
  statuses.clear();
  if (!ParseBatchAnswer(r.res.body(), posts.size(), statuses)) statuses.clear();
  return r.res.result_int();
}

unsigned TraceHarness::PostBatchBytes(const std::string& bytes) {
  auto r = http::FetchWith(
      http::Verb::post,
      "http://127.0.0.1:" + std::to_string(port) + std::string(wire::kEventBatchPath), bytes,
      std::string(wire::kEventBatchType), {}, std::chrono::seconds(20));
  return r.ec ? 0 : r.res.result_int();
}

std::vector<Row> TraceHarness::Deliveries() const {
  return QueryRows(db_path(), "SELECT * FROM deliveries ORDER BY tandem_id, vendor");
}

std::vector<Row> TraceHarness::Rejected() const {
  return QueryRows(db_path(), "SELECT * FROM rejected ORDER BY tandem_id");
}

std::string TraceHarness::MetricsUrl() const {
  return "http://127.0.0.1:" + std::to_string(port) + "/metrics";
}

}  // namespace tandem::testing
