#include "pipeline/trace/trace_handler.h"

#include <atomic>
#include <boost/asio/post.hpp>

#include "common/event_batch.h"
#include "common/uuid7.h"
#include "common/wire.h"

namespace tandem::trace {
namespace {

bool ValidId(std::string_view id) {
  return id.size() == 36 && id.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos;
}

// The event as its headers describe it, for a single POST or one of a batch.
// `header` maps a name to its value (empty when absent).
template <typename HeaderLookup>
StampedEvent Stamp(const HeaderLookup& header, std::string body) {
  StampedEvent e;
  e.tandem_id = std::string(header(wire::kTandemId));
  std::string_view at = header(wire::kReceivedAt);
  if (!ValidId(e.tandem_id) || at.empty() || at.size() > 18 ||
      at.find_first_not_of("0123456789") != std::string::npos) {
    // Only the forwarder calls trace, and it always stamps; a direct call gets
    // an id of its own so its rows still have a key.
    Uuid7 id = NewUuid7();
    e.tandem_id = std::move(id.text);
    e.received_at_ms = id.unix_ms;
  } else {
    e.received_at_ms = std::stoll(std::string(at));
  }
  e.role = std::string(header(wire::kRole));
  e.user_agent = std::string(header("User-Agent"));
  e.forwarded_for = std::string(header("X-Forwarded-For"));
  e.accept_language = std::string(header("Accept-Language"));
  e.referer = std::string(header("Referer"));
  e.origin = std::string(header("Origin"));
  e.body = std::move(body);
  return e;
}

// What a batch is waiting for: one status per event, answered when the last is in.
struct BatchAnswer {
  std::vector<unsigned> statuses;
  std::atomic<size_t> remaining{0};
  http::Respond respond;
  boost::asio::io_context* io = nullptr;
};

}  // namespace

TraceHandler::TraceHandler(IoWorkers& workers, EventProcessor& processor, Metrics& metrics)
    : workers_(workers), processor_(processor), metrics_(metrics) {}

void TraceHandler::Handle(http::Request&& req, const http::RequestInfo& info,
                          http::Respond respond) {
  std::string_view path = req.target().substr(0, req.target().find('?'));
  if (path == "/healthz" || path == "/readyz") {
    return respond(http::MakeResponse(http::Status::ok, R"({"status":"ok"})"));
  }
  if (path == "/metrics") {
    return respond(
        http::MakeResponse(http::Status::ok, metrics_.Serialize(), "text/plain; version=0.0.4"));
  }
  if (path != wire::kEventsPath && path != wire::kEventBatchPath) {
    return respond(http::JsonError(http::Status::not_found, "no such endpoint"));
  }
  if (req.method() != http::Verb::post) {
    auto res = http::JsonError(http::Status::method_not_allowed, "use POST");
    res.set(http::Field::allow, "POST");
    return respond(std::move(res));
  }
  if (path == wire::kEventBatchPath) return HandleBatch(std::move(req), info, std::move(respond));
  auto header = [&req](std::string_view name) -> std::string_view {
    auto it = req.find(name);
    return it == req.end() ? std::string_view() : std::string_view(it->value());
  };
  EventProcessor::Origin origin;
  if (std::string_view b = header(wire::kBackfill); !b.empty()) {
    if (!ValidId(header(wire::kTandemId))) {
      // A fresh id would make every backfill deliver the event again as a new one.
      return respond(http::JsonError(http::Status::bad_request,
                                     "a backfill needs the event's tandem_id (a UUID)"));
    }
    origin.backfill = std::string(b);
  }
  origin.redelivery = header(wire::kRedelivery) == "1";
  StampedEvent e = Stamp(header, std::move(req.body()));
  auto& io = workers_.context(info.worker);
  processor_.Process(
      std::move(e), origin,
      [&io, respond = std::move(respond)](http::Status status, std::string body) mutable {
        // Back to the connection's own thread.
        boost::asio::post(io,
                          [status, body = std::move(body), respond = std::move(respond)]() mutable {
                            respond(http::MakeResponse(status, std::move(body)));
                          });
      });
}

// A batch from the forwarder: each event goes through the processor as a single
// POST would, and the answer waits for all of them. Backfills use kEventsPath.
void TraceHandler::HandleBatch(http::Request&& req, const http::RequestInfo& info,
                               http::Respond respond) {
  std::vector<BatchedEvent> events;
  std::string error;
  if (!ParseEventBatch(req.body(), events, error)) {
    return respond(http::JsonError(http::Status::bad_request, "bad event batch: " + error));
  }
  auto batch = std::make_shared<BatchAnswer>();
  batch->statuses.assign(events.size(), 0);
  batch->remaining = events.size();
  batch->respond = std::move(respond);
  batch->io = &workers_.context(info.worker);
  for (size_t i = 0; i < events.size(); ++i) {
    const BatchedEvent& b = events[i];
    EventProcessor::Origin origin;
    origin.redelivery = b.header(wire::kRedelivery) == "1";
    auto header = [&b](std::string_view name) { return b.header(name); };
    processor_.Process(
        Stamp(header, std::string(b.body)), origin, [batch, i](http::Status status, std::string) {
          batch->statuses[i] = static_cast<unsigned>(status);
          // The last answer sends the batch's, on the connection's thread.
          if (batch->remaining.fetch_sub(1) != 1) return;
          boost::asio::post(*batch->io, [batch] {
            batch->respond(
                http::MakeResponse(http::Status::ok, EncodeBatchAnswer(batch->statuses)));
          });
        });
  }
}

}  // namespace tandem::trace
