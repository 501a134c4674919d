#include "splitter/ingest_handler.h"

#include <bit>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <chrono>

#include "common/uuid7.h"
#include "common/wire.h"
#include "splitter/ingest_request.h"
#include "splitter/sparrow_js.h"

namespace tandem::splitter {
namespace beast = boost::beast;
using Clock = std::chrono::steady_clock;

IngestSettings IngestSettings::From(const SplitterConfig& c) {
  IngestSettings s;
  s.sample = MirrorSample(c.mirror_fraction);
  s.upstream_timeout_ms = c.upstream_timeout_ms;
  s.max_inflight_per_color = c.max_inflight_per_color;
  s.max_body_bytes = c.max_body_bytes;
  s.mirror.timeout = std::chrono::milliseconds(c.upstream_timeout_ms);
  s.mirror.retry_for = std::chrono::milliseconds(c.candidate_retry_ms);
  s.mirror.retry_bytes = c.candidate_retry_bytes;
  s.cors_origins.insert(c.cors_origins.begin(), c.cors_origins.end());
  return s;
}

namespace {

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

IngestHandler::IngestHandler(IoWorkers& workers, const Config& config, LiveState& state,
                             SplitterMetrics& metrics)
    : workers_(workers), state_(state), metrics_(metrics), per_worker_(workers.size()) {
  for (Color c : {Color::kBlue, Color::kGreen})
    metrics_.AddDispatchers(c, config.color(c).dispatchers);
  auto settings = std::make_shared<const IngestSettings>(IngestSettings::From(config.splitter));
  for (size_t i = 0; i < workers.size(); ++i) {
    per_worker_[i].settings = settings;
    for (Color c : {Color::kBlue, Color::kGreen}) {
      const auto& addresses = config.color(c).dispatchers;
      per_worker_[i].live[Index(c)] =
          std::make_unique<DispatcherSet>(workers.context(i), addresses);
      // Candidate copies share a capped set of connections per address (Envoy's
      // max_connections breaker): a slow candidate holds a few hundred sockets,
      // not thousands.
      size_t cap =
          (config.splitter.candidate_max_connections + workers.size() - 1) / workers.size();
      auto set = std::make_unique<DispatcherSet>(
          workers.context(i), addresses,
          http::PoolLimits{.max_connections = cap, .max_waiting = cap});
      per_worker_[i].mirror[Index(c)] = std::make_unique<CandidateMirror>(
          workers.context(i), std::move(set), cap, c, candidate_[Index(c)], metrics_);
    }
  }
}

void IngestHandler::Reload(const IngestSettings& s) {
  auto settings = std::make_shared<const IngestSettings>(s);
  for (size_t i = 0; i < workers_.size(); ++i) {
    boost::asio::post(workers_.context(i),
                      [this, i, settings] { per_worker_[i].settings = settings; });
  }
}

size_t IngestHandler::inflight() const {
  int64_t n = 0;
  for (int i = 0; i < 2; ++i) n += candidate_[i].inflight.load() + live_inflight_[i].load();
  return static_cast<size_t>(n);
}

size_t IngestHandler::inflight(Color c, bool candidate) const {
  return static_cast<size_t>(candidate ? candidate_[Index(c)].inflight.load()
                                       : live_inflight_[Index(c)].load());
}

size_t IngestHandler::parked(Color c) const {
  return static_cast<size_t>(candidate_[Index(c)].parked.load());
}

void IngestHandler::AddCors(http::Response& res, const std::string& origin) const {
  if (origin.empty()) return;
  res.set(http::Field::access_control_allow_origin, origin);
  res.set(http::Field::vary, "Origin");
}

void IngestHandler::Finish(http::Respond& respond, http::Response&& res,
                           const std::string& origin) {
  AddCors(res, origin);
  metrics_.Response(res.result_int());
  respond(std::move(res));
}

void IngestHandler::Handle(http::Request&& req, const http::RequestInfo& info,
                           http::Respond respond) {
  Worker& w = per_worker_[info.worker];
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));

  // An origin that is not allowed gets no CORS headers, so browsers refuse the answer.
  std::string origin;
  if (auto it = req.find(http::Field::origin); it != req.end()) {
    std::string o(it->value());
    if (w.settings->cors_origins.count(o) || w.settings->cors_origins.count("*"))
      origin = std::move(o);
  }

  if (path == "/sdk/sparrow.js") {
    if (req.method() != http::Verb::get && req.method() != http::Verb::head) {
      metrics_.Rejected(Rejection::kMethodNotAllowed);
      auto res = http::JsonError(http::Status::method_not_allowed, "use GET");
      res.set(http::Field::allow, "GET, HEAD");
      return Finish(respond, std::move(res), "");
    }
    auto res = http::MakeResponse(http::Status::ok, std::string(SparrowJs()),
                                  "application/javascript; charset=utf-8");
    res.set(http::Field::cache_control, "public, max-age=300");
    res.set(http::Field::access_control_allow_origin, "*");
    return Finish(respond, std::move(res), "");
  }
  if (path != wire::kEventsPath) {
    metrics_.Rejected(Rejection::kNotFound);
    return Finish(
        respond,
        http::JsonError(http::Status::not_found, "no such endpoint; events go to POST /v1/events"),
        origin);
  }
  if (req.method() == http::Verb::options) {
    if (origin.empty()) {
      metrics_.Rejected(Rejection::kCorsForbidden);
      return Finish(respond, http::JsonError(http::Status::forbidden, "origin not allowed"), "");
    }
    http::Response res{http::Status::no_content, 11};
    res.set(http::Field::access_control_allow_methods, "POST, OPTIONS");
    res.set(http::Field::access_control_allow_headers, "Content-Type");
    res.set(http::Field::access_control_max_age, "86400");
    return Finish(respond, std::move(res), origin);
  }
  if (req.method() != http::Verb::post) {
    metrics_.Rejected(Rejection::kMethodNotAllowed);
    auto res = http::JsonError(http::Status::method_not_allowed, "use POST");
    res.set(http::Field::allow, "POST, OPTIONS");
    return Finish(respond, std::move(res), origin);
  }
  PreparedEvent ev =
      PrepareEvent(std::move(req), info.peer_ip, w.settings->max_body_bytes, NewUuid7());
  if (!ev.upstream) {
    metrics_.Rejected(ev.reason);
    return Finish(respond, std::move(ev.refusal), origin);
  }
  http::Request& up = *ev.upstream;
  Color live = state_.live();
  Color candidate = Other(live);
  // The candidate copy is made only when it will be sent: a shed copy costs one atomic.
  CandidateMirror& mirror = *w.mirror[Index(candidate)];
  std::string_view fate = wire::kMirrorSent;
  if (!w.settings->sample.Includes(up.body(), up[wire::kTandemId])) {
    fate = wire::kMirrorSampledOut;
  } else if (!mirror.Admit(w.settings->max_inflight_per_color, up.body().size())) {
    fate = wire::kMirrorShed;
  }
  // The live dispatcher keeps it in raw.mirror: compare judges the candidate
  // only on what it was sent.
  up.set(wire::kMirror, fate);
  const bool mirrored = fate == wire::kMirrorSent;
  http::Request candidate_copy;
  if (mirrored) {
    candidate_copy = up;
    candidate_copy.set(wire::kRole, wire::kRoleCandidate);
  }
  up.set(wire::kRole, wire::kRoleLive);
  // The live copy goes first: initiating it writes to the socket at once.
  Forward(w, std::move(up), live, std::move(respond), origin);
  if (mirrored) {
    mirror.Send(std::move(candidate_copy), w.settings->mirror);
  }
}

void IngestHandler::Forward(Worker& w, http::Request&& up, Color live, http::Respond respond,
                            const std::string& origin) {
  live_inflight_[Index(live)].fetch_add(1, std::memory_order_relaxed);
  auto start = Clock::now();
  size_t address = w.live[Index(live)]->Pick(start);
  SendLive(w, std::move(up), live, address, 0, start, std::move(respond), origin);
}

namespace {

// The dispatcher surely has not seen the request: it can go to another one
// without the event reaching trace (and the vendors) twice.
bool NeverReached(const boost::system::error_code& ec) {
  namespace error = boost::asio::error;
  return ec == error::connection_refused || ec == error::host_unreachable ||
         ec == error::network_unreachable;
}

}  // namespace

void IngestHandler::SendLive(Worker& w, http::Request&& up, Color live, size_t address,
                             uint64_t tried, Clock::time_point start, http::Respond respond,
                             const std::string& origin) {
  // One timeout for the client's request, however many dispatchers it takes.
  auto budget = std::chrono::milliseconds(w.settings->upstream_timeout_ms);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(start + budget - Clock::now());
  DispatcherSet& set = *w.live[Index(live)];
  tried |= address < 64 ? uint64_t{1} << address : 0;
  // The worker (and its set) outlives every callback its pools run.
  set.pool(address).SendReturning(
      std::move(up), std::max(left, std::chrono::milliseconds(1)),
      [this, &w, &set, live, address, tried, start, origin, respond = std::move(respond)](
          boost::system::error_code ec, http::Response&& res, http::Request&& sent) mutable {
        metrics_.Dispatcher(live, address, OutcomeOf(ec, res));
        auto now = Clock::now();
        if (ec) {
          // Refused, dropped or silent (a host that is off): skip it for a while.
          set.Failed(address, now);
          size_t tries = static_cast<size_t>(std::popcount(tried));
          if (NeverReached(ec) && tries < set.size() &&
              now < start + std::chrono::milliseconds(w.settings->upstream_timeout_ms)) {
            size_t next = set.Pick(now, tried);
            return SendLive(w, std::move(sent), live, next, tried, start, std::move(respond),
                            origin);
          }
        } else {
          set.Answered(address);
        }
        live_inflight_[Index(live)].fetch_sub(1, std::memory_order_relaxed);
        metrics_.Latency(live, Role::kLive, Seconds(start));
        metrics_.Forwarded(live, Role::kLive, OutcomeOf(ec, res));
        if (ec == beast::error::timeout) {
          return Finish(respond,
                        http::JsonError(http::Status::gateway_timeout,
                                        "the live pipeline did not answer in time"),
                        origin);
        }
        if (ec) {
          return Finish(
              respond,
              http::JsonError(http::Status::bad_gateway, "the live pipeline is unreachable"),
              origin);
        }
        http::Response out{res.result(), 11};
        if (auto it = res.find(http::Field::content_type); it != res.end())
          out.set(http::Field::content_type, it->value());
        out.body() = std::move(res.body());
        Finish(respond, std::move(out), origin);
      });
}

}  // namespace tandem::splitter
