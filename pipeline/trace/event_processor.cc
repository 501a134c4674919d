#include "pipeline/trace/event_processor.h"

#include <boost/asio/post.hpp>
#include <chrono>

#include "common/clock.h"
#include "common/sha256.h"
#include "common/wire.h"
#include "pipeline/trace/trace_metrics.h"

namespace tandem::trace {

struct EventProcessor::Job {
  std::string tandem_id;
  Role role = Role::kLive;
  std::vector<PayloadPtr> payloads;  // one per tracker
  std::vector<std::string> hashes;
  std::vector<std::optional<DeliveryResult>> results;  // empty: already on record
  std::optional<std::string> backfill;                 // "*" or a tracker's name
  size_t remaining = 0;
  size_t sent = 0;  // deliveries attempted (what a backfill reports)
  Answer answer;
  std::chrono::steady_clock::time_point start;
};

EventProcessor::EventProcessor(const PipelineConfig& config, boost::asio::io_context& delivery_io,
                               const std::vector<TrackerPtr>& trackers, RowWriter& writer,
                               TraceMetrics& metrics)
    : cleaner_(std::make_shared<EventCleaner>(config)),
      record_payloads_(config.record_payloads),
      delivery_io_(delivery_io),
      trackers_(trackers),
      writer_(writer),
      metrics_(metrics) {}

std::shared_ptr<const EventCleaner> EventProcessor::cleaner() const {
  std::lock_guard<std::mutex> l(mu_);
  return cleaner_;
}

void EventProcessor::Reload(const PipelineConfig& config) {
  auto fresh = std::make_shared<const EventCleaner>(config);
  std::lock_guard<std::mutex> l(mu_);
  cleaner_ = std::move(fresh);
}

namespace {

std::string Body(const std::string& id, const char* what) {
  return nlohmann::json{{"id", id}, {"result", what}}.dump();
}

}  // namespace

void EventProcessor::Process(StampedEvent in, const Origin& origin, Answer answer) {
  auto start = std::chrono::steady_clock::now();
  metrics_.events.Increment();
  CleanResult r = cleaner()->Clean(in);
  metrics_.Scrubbed(r.scrubbed);
  if (r.properties_dropped) metrics_.properties_dropped.Increment(r.properties_dropped);
  if (!r.event) {
    metrics_.Rejected(r.reject_reason).Increment();
    return writer_.Write(
        {}, {{in.tandem_id, r.reject_reason, UnixMillis()}},
        [this, id = in.tandem_id, answer = std::move(answer), start](const Status& s) {
          if (!s.ok()) {
            return answer(http::Status::service_unavailable, Body(id, "dataset unavailable"));
          }
          metrics_.event_seconds.Observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
          answer(http::Status::ok, Body(id, "rejected"));
        });
  }
  auto job = std::make_shared<Job>();
  job->tandem_id = in.tandem_id;
  job->role = in.role == wire::kRoleCandidate ? Role::kCandidate : Role::kLive;
  job->answer = std::move(answer);
  job->start = start;
  for (const auto& t : trackers_) {
    auto p = std::make_shared<VendorPayload>();
    p->tandem_id = in.tandem_id;
    p->body = t->Payload(*r.event);
    p->text = p->body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    job->hashes.push_back(Sha256Hex(p->text));
    job->payloads.push_back(std::move(p));
  }
  job->results.resize(trackers_.size());
  job->backfill = origin.backfill;
  if (!origin.redelivery && !origin.backfill) {
    return boost::asio::post(delivery_io_, [this, job] { Dispatch(job, {}); });
  }
  if (origin.redelivery) metrics_.redeliveries.Increment();
  bool with_payload = origin.backfill && record_payloads_;
  writer_.Lookup(job->tandem_id, with_payload,
                 [this, job](const Status& s, std::vector<DeliveryRow> rows) {
                   if (!s.ok()) {
                     return job->answer(http::Status::service_unavailable,
                                        Body(job->tandem_id, "dataset unavailable"));
                   }
                   boost::asio::post(delivery_io_,
                                     [this, job, rows = std::move(rows)] { Dispatch(job, rows); });
                 });
}

void EventProcessor::Dispatch(const std::shared_ptr<Job>& job,
                              const std::vector<DeliveryRow>& on_record) {
  job->remaining = trackers_.size() + 1;  // +1: trackers may finish synchronously
  for (size_t i = 0; i < trackers_.size(); ++i) {
    const std::string& name = trackers_[i]->name();
    if (job->backfill && *job->backfill != "*" && *job->backfill != name) {
      --job->remaining;  // another vendor's backfill
      continue;
    }
    bool done_before = false;
    for (const auto& row : on_record) {
      if (row.vendor != name) continue;
      // A backfill sends again what did not arrive; otherwise at most one row
      // per event and vendor: what was recorded stands.
      done_before |= !job->backfill || row.outcome == "delivered" || row.outcome == "skipped";
      if (job->backfill && !row.payload.empty()) UseRecordedPayload(*job, i, row.payload);
    }
    if (done_before) {
      metrics_.duplicates_skipped.Increment();
      --job->remaining;
      continue;
    }
    ++job->sent;
    trackers_[i]->Deliver(job->role, job->payloads[i], [this, job, i](DeliveryResult r) {
      job->results[i] = std::move(r);
      if (--job->remaining == 0) Complete(job);
    });
  }
  if (--job->remaining == 0) Complete(job);
}

void EventProcessor::UseRecordedPayload(Job& job, size_t i, const std::string& text) {
  // The payload first built (with the client's context, which raw does not
  // keep): sending it again keeps the bytes and the payload_hash the same.
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded()) return;
  auto p = std::make_shared<VendorPayload>();
  p->tandem_id = job.tandem_id;
  p->body = std::move(body);
  p->text = text;
  job.hashes[i] = Sha256Hex(p->text);
  job.payloads[i] = std::move(p);
}

void EventProcessor::Complete(const std::shared_ptr<Job>& job) {
  std::vector<DeliveryRow> rows;
  int64_t now = UnixMillis();
  for (size_t i = 0; i < trackers_.size(); ++i) {
    if (!job->results[i]) continue;
    const DeliveryResult& r = *job->results[i];
    rows.push_back({job->tandem_id, trackers_[i]->name(), r.outcome, r.status_code, r.attempts, now,
                    job->hashes[i], record_payloads_ ? job->payloads[i]->text : ""});
  }
  writer_.Write(std::move(rows), {}, [this, job](const Status& s) {
    if (!s.ok()) {
      return job->answer(http::Status::service_unavailable,
                         Body(job->tandem_id, "dataset unavailable"));
    }
    metrics_.event_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - job->start).count());
    if (!job->backfill) return job->answer(http::Status::ok, Body(job->tandem_id, "processed"));
    job->answer(http::Status::ok,
                nlohmann::json{{"id", job->tandem_id}, {"result", "processed"}, {"sent", job->sent}}
                    .dump());
  });
}

}  // namespace tandem::trace
