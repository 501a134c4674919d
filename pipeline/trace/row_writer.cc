#include "pipeline/trace/row_writer.h"

#include <chrono>

#include "common/backoff.h"
#include "common/log.h"

namespace tandem::trace {
namespace {

// Failed writes are tried again this many times (with backoff, about 1.5 s in
// all) before the events are answered 503 and the forwarder sends them again.
constexpr int kWriteAttempts = 4;

bool IsTandemId(const std::string& id) {
  return id.size() == 36 && id.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos;
}

}  // namespace

RowWriter::RowWriter(Dataset& dataset, TraceMetrics& metrics)
    : dataset_(dataset), metrics_(metrics) {}

RowWriter::~RowWriter() { Stop(); }

void RowWriter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void RowWriter::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RowWriter::Write(std::vector<DeliveryRow> deliveries, std::vector<RejectedRow> rejected,
                      Written done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stopping_) {
      queue_.push_back({std::move(deliveries), std::move(rejected), std::move(done), {}, {}});
      cv_.notify_one();
      return;
    }
  }
  done(Status(std::make_error_code(std::errc::operation_canceled), "trace is stopping"));
}

void RowWriter::Lookup(std::string tandem_id, bool with_payload, Found done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stopping_) {
      queue_.push_back({{}, {}, {}, std::move(tandem_id), with_payload, std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(Status(std::make_error_code(std::errc::operation_canceled), "trace is stopping"), {});
}

void RowWriter::Run() {
  for (;;) {
    std::vector<Job> jobs;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      while (!queue_.empty()) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<Job> writes;
    for (auto& job : jobs) {
      if (job.found) {
        RunLookup(job);
      } else {
        writes.push_back(std::move(job));
      }
    }
    if (!writes.empty()) WriteBatch(writes);
  }
}

Status RowWriter::WriteOnce(const std::vector<DeliveryRow>& d, const std::vector<RejectedRow>& r) {
  if (!bootstrapped_) {
    // Trace may start before the dispatcher's loader has created the tables, and
    // tables dropped since heal the same way: bootstrap again after a failure.
    if (Status s = dataset_.Bootstrap(); !s.ok()) return s;
    bootstrapped_ = true;
  }
  // One write for both kinds of rows: on SQLite one transaction, one sync.
  OutcomesWriteResult w = dataset_.InsertOutcomes(d, r);
  if (!w.status.ok()) {
    bootstrapped_ = false;
    return w.status;
  }
  for (int part = 0; part < 2; ++part) {
    for (const auto& refused : part == 0 ? w.deliveries_refused : w.rejected_refused) {
      // Nothing better can be done with a row the dataset refuses for good
      // than to say so: the event is still answered, so it blocks nothing.
      metrics_.rows_refused.Increment();
      const std::string& id = part == 0 ? d[refused.index].tandem_id : r[refused.index].tandem_id;
      log::Error("the dataset refused a row for good",
                 {{"table", part == 0 ? "deliveries" : "rejected"},
                  {"id", id},
                  {"reason", refused.reason}});
    }
  }
  return {};
}

void RowWriter::WriteBatch(std::vector<Job>& jobs) {
  std::vector<DeliveryRow> d;
  std::vector<RejectedRow> r;
  for (auto& job : jobs) {
    std::move(job.deliveries.begin(), job.deliveries.end(), std::back_inserter(d));
    std::move(job.rejected.begin(), job.rejected.end(), std::back_inserter(r));
  }
  auto start = std::chrono::steady_clock::now();
  Status s;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(Backoff(attempt - 1));
    s = WriteOnce(d, r);
    if (s.ok()) break;
    metrics_.write_failures.Increment();
    log::Warn("dataset write failed", {{"error", s.message()}, {"attempt", attempt + 1}});
  }
  metrics_.write_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  for (auto& job : jobs) job.written(s);
}

void RowWriter::RunLookup(Job& job) {
  if (!IsTandemId(job.lookup_id)) return job.found({}, {});
  if (!bootstrapped_) {
    if (Status s = dataset_.Bootstrap(); !s.ok()) return job.found(s, {});
    bootstrapped_ = true;
  }
  std::vector<std::vector<std::string>> rows;
  // The payload column only when asked: a dataset bootstrapped before payloads
  // were recorded lacks it, and the forwarder's redeliveries must still work.
  Status s = dataset_.Query(
      std::string("SELECT vendor, outcome, status_code, attempts, payload_hash") +
          (job.with_payload ? ", payload" : "") + " FROM " + dataset_.Table("deliveries") +
          " WHERE tandem_id = '" + job.lookup_id + "'",
      rows);
  std::vector<DeliveryRow> out;
  for (const auto& row : rows) {
    if (row.size() < 5) continue;
    DeliveryRow d{};
    d.tandem_id = job.lookup_id;
    d.vendor = row[0];
    d.outcome = row[1];
    d.status_code = std::atoi(row[2].c_str());
    d.attempts = std::atoi(row[3].c_str());
    d.payload_hash = row[4];
    if (job.with_payload && row.size() > 5) d.payload = row[5];
    out.push_back(std::move(d));
  }
  job.found(s, std::move(out));
}

}  // namespace tandem::trace
