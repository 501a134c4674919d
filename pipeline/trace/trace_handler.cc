#include "pipeline/trace/trace_handler.h"

#include <boost/asio/post.hpp>

#include "common/uuid7.h"
#include "common/wire.h"

namespace tandem::trace {
namespace {

bool ValidId(std::string_view id) {
  return id.size() == 36 && id.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos;
}

std::string Header(const http::Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string() : std::string(it->value());
}

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
  if (path != wire::kEventsPath) {
    return respond(http::JsonError(http::Status::not_found, "no such endpoint"));
  }
  if (req.method() != http::Verb::post) {
    auto res = http::JsonError(http::Status::method_not_allowed, "use POST");
    res.set(http::Field::allow, "POST");
    return respond(std::move(res));
  }
  StampedEvent e;
  e.tandem_id = Header(req, wire::kTandemId);
  if (!Header(req, wire::kBackfill).empty() && !ValidId(e.tandem_id)) {
    // A fresh id would make every backfill deliver the event again as a new one.
    return respond(http::JsonError(http::Status::bad_request,
                                   "a backfill needs the event's tandem_id (a UUID)"));
  }
  std::string at = Header(req, wire::kReceivedAt);
  if (!ValidId(e.tandem_id) || at.empty() || at.size() > 18 ||
      at.find_first_not_of("0123456789") != std::string::npos) {
    // Only the forwarder calls trace, and it always stamps; a direct call gets
    // an id of its own so its rows still have a key.
    Uuid7 id = NewUuid7();
    e.tandem_id = std::move(id.text);
    e.received_at_ms = id.unix_ms;
  } else {
    e.received_at_ms = std::stoll(at);
  }
  e.role = Header(req, wire::kRole);
  e.user_agent = Header(req, "User-Agent");
  e.forwarded_for = Header(req, "X-Forwarded-For");
  e.accept_language = Header(req, "Accept-Language");
  e.referer = Header(req, "Referer");
  e.origin = Header(req, "Origin");
  e.body = std::move(req.body());
  EventProcessor::Origin origin;
  origin.redelivery = Header(req, wire::kRedelivery) == "1";
  if (std::string b = Header(req, wire::kBackfill); !b.empty()) origin.backfill = std::move(b);
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

}  // namespace tandem::trace
