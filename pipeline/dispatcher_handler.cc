#include "pipeline/dispatcher_handler.h"

#include <boost/asio/post.hpp>
#include <chrono>

#include "common/uuid7.h"
#include "common/wire.h"

namespace tandem::pipeline {

DispatcherHandler::DispatcherHandler(IoWorkers& workers, Spool& spool, Metrics& metrics,
                                     DispatcherMetrics& dm, std::function<void()> before_scrape)
    : workers_(workers),
      spool_(spool),
      metrics_(metrics),
      dm_(dm),
      before_scrape_(std::move(before_scrape)) {}

void DispatcherHandler::Handle(http::Request&& req, const http::RequestInfo& info,
                               http::Respond respond) {
  std::string_view path = req.target().substr(0, req.target().find('?'));
  if (path == "/healthz" || path == "/readyz") {
    return respond(http::MakeResponse(http::Status::ok, R"({"status":"ok"})"));
  }
  if (path == "/metrics") {
    if (before_scrape_) before_scrape_();
    return respond(
        http::MakeResponse(http::Status::ok, metrics_.Serialize(), "text/plain; version=0.0.4"));
  }
  if (path != wire::kEventsPath)
    return respond(http::JsonError(http::Status::not_found, "no such endpoint"));
  if (req.method() != http::Verb::post) {
    auto res = http::JsonError(http::Status::method_not_allowed, "use POST");
    res.set(http::Field::allow, "POST");
    return respond(std::move(res));
  }
  auto start = std::chrono::steady_clock::now();
  SpoolRecord rec;
  // The splitter stamps every event; a request without its stamp (a direct call) gets one here.
  rec.tandem_id = std::string(req[wire::kTandemId]);
  std::string_view at = req[wire::kReceivedAt];
  bool id_ok = rec.tandem_id.size() == 36 &&
               rec.tandem_id.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos;
  if (!id_ok || at.empty() || at.find_first_not_of("0123456789") != std::string_view::npos ||
      at.size() > 18) {
    Uuid7 id = NewUuid7();
    rec.tandem_id = std::move(id.text);
    rec.received_at_ms = id.unix_ms;
  } else {
    rec.received_at_ms = std::stoll(std::string(at));
  }
  std::string_view role = req[wire::kRole];
  rec.role = role == wire::kRoleCandidate ? wire::kRoleCandidate : wire::kRoleLive;
  for (std::string_view h : wire::kKeptHeaders) {
    auto it = req.find(h);
    if (it != req.end()) rec.headers.emplace_back(std::string(h), std::string(it->value()));
  }
  // What became of the candidate's copy, kept for the loader (raw.mirror); a
  // value the splitter never sends is dropped (the column then reads "sent").
  if (std::string_view m = req[wire::kMirror]; wire::IsMirrorValue(m))
    rec.headers.emplace_back(std::string(wire::kMirror), std::string(m));
  rec.body = std::move(req.body());
  std::string frame;
  if (!EncodeFrame(rec, frame)) {
    // Config limits bodies far below this; a record the spool cannot hold is
    // refused here rather than written and never read back.
    dm_.too_large.Increment();
    return respond(http::JsonError(http::Status::payload_too_large,
                                   "the event is larger than the spool's record limit"));
  }
  auto& io = workers_.context(info.worker);
  spool_.Append(std::move(frame), [this, &io, start, id = std::move(rec.tandem_id),
                                   respond = std::move(respond)](std::error_code ec) mutable {
    // On the spool's writer thread: hand the answer back to the connection's thread.
    boost::asio::post(
        io, [this, ec, start, id = std::move(id), respond = std::move(respond)]() mutable {
          if (ec) {
            dm_.refused.Increment();
            return respond(http::JsonError(http::Status::service_unavailable,
                                           "cannot store the event: " + ec.message()));
          }
          dm_.accepted.Increment();
          dm_.ack_latency.Observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
          respond(http::MakeResponse(http::Status::accepted, "{\"id\":\"" + id + "\"}"));
        });
  });
}

}  // namespace tandem::pipeline
