#include "splitter/admin_handler.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace tandem::splitter {
namespace {

using json = nlohmann::json;
constexpr auto kCompareTimeout = std::chrono::milliseconds(5000);
constexpr auto kReadyTimeout = std::chrono::milliseconds(1000);

std::string Sha256(std::string_view s) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

http::Response Json(http::Status st, const json& j) { return http::MakeResponse(st, j.dump()); }

int Idx(Color c) { return c == Color::kBlue ? 0 : 1; }

}  // namespace

AdminHandler::AdminHandler(boost::asio::io_context& io, const Config& config, LiveState& state,
                           Metrics& metrics, SplitterMetrics& splitter_metrics,
                           std::function<void()> before_scrape)
    : io_(io),
      ssl_(std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client)),
      state_(state),
      metrics_(metrics),
      splitter_metrics_(splitter_metrics),
      before_scrape_(std::move(before_scrape)) {
  ssl_->set_default_verify_paths();
  if (!config.pipeline.tls_ca_file.empty()) ssl_->load_verify_file(config.pipeline.tls_ca_file);
  for (Color c : {Color::kBlue, Color::kGreen}) {
    const HostPort& hp = config.color(c).dispatcher_listen;
    dispatchers_[Idx(c)] =
        http::ClientPool::Create(io_, http::Upstream{hp.host, hp.port}, {.max_idle = 4});
  }
  Reload(config);
}

AdminHandler::~AdminHandler() = default;

void AdminHandler::Reload(const Config& config) {
  config_ = config;
  http::Upstream up;
  if (!http::ParseUrl(config.splitter.compare_url, up, compare_target_)) {
    throw std::runtime_error("splitter.compare_url: cannot parse '" + config.splitter.compare_url +
                             "'");
  }
  up.ssl = ssl_.get();
  if (compare_target_.empty() || compare_target_.back() != '/') compare_target_ += "/";
  compare_target_ += "v1/report";
  if (compare_target_.rfind("//", 0) == 0) compare_target_ = compare_target_.substr(1);
  compare_ = http::ClientPool::Create(io_, up, {.max_idle = 4});
  const char* token = std::getenv(config.splitter.admin_token_env.c_str());
  token_digest_ = token && *token ? Sha256(token) : std::string();
  if (token_digest_.empty()) {
    log::Warn("admin API closed: the token variable is unset",
              {{"variable", config.splitter.admin_token_env}});
  }
}

bool AdminHandler::Authorized(const http::Request& req) const {
  if (token_digest_.empty()) return false;
  auto it = req.find(http::Field::authorization);
  if (it == req.end()) return false;
  std::string_view v = it->value();
  if (v.size() < 7 || !boost::beast::iequals(v.substr(0, 7), "Bearer ")) return false;
  // Digests have a fixed length, so the comparison takes the same time whatever the token.
  std::string got = Sha256(v.substr(7));
  return CRYPTO_memcmp(got.data(), token_digest_.data(), got.size()) == 0;
}

std::string AdminHandler::StateJson(const LiveSnapshot& s) const {
  return json{{"live", ColorName(s.live)},
              {"candidate", ColorName(Other(s.live))},
              {"mirror_fraction", config_.splitter.mirror_fraction},
              {"changed_at_ms", s.changed_at_ms}}
      .dump();
}

void AdminHandler::Reply(http::Respond& respond, const char* endpoint, http::Response&& res) {
  splitter_metrics_.Admin(endpoint, res.result_int());
  respond(std::move(res));
}

void AdminHandler::Handle(http::Request&& req, const http::RequestInfo&, http::Respond respond) {
  std::string path(req.target().substr(0, req.target().find('?')));
  const bool get = req.method() == http::Verb::get;
  const bool post = req.method() == http::Verb::post;
  if (path == "/healthz") {
    if (!get)
      return Reply(respond, "healthz",
                   http::JsonError(http::Status::method_not_allowed, "use GET"));
    return Reply(respond, "healthz", Json(http::Status::ok, {{"status", "ok"}}));
  }
  if (path == "/readyz") {
    if (!get)
      return Reply(respond, "readyz", http::JsonError(http::Status::method_not_allowed, "use GET"));
    return Ready(std::move(respond));
  }
  if (path == "/metrics") {
    if (!get)
      return Reply(respond, "metrics",
                   http::JsonError(http::Status::method_not_allowed, "use GET"));
    if (before_scrape_) before_scrape_();
    return respond(
        http::MakeResponse(http::Status::ok, metrics_.Serialize(), "text/plain; version=0.0.4"));
  }
  const char* endpoint = path == "/admin/v1/state"      ? "state"
                         : path == "/admin/v1/promote"  ? "promote"
                         : path == "/admin/v1/rollback" ? "rollback"
                                                        : nullptr;
  if (!endpoint)
    return Reply(respond, "other", http::JsonError(http::Status::not_found, "no such endpoint"));
  if (!Authorized(req)) {
    auto res = http::JsonError(http::Status::unauthorized, "a valid bearer token is required");
    res.set(http::Field::www_authenticate, "Bearer");
    return Reply(respond, endpoint, std::move(res));
  }
  if (path == "/admin/v1/state") {
    if (!get)
      return Reply(respond, endpoint, http::JsonError(http::Status::method_not_allowed, "use GET"));
    return Reply(respond, endpoint,
                 http::MakeResponse(http::Status::ok, StateJson(state_.Snapshot())));
  }
  if (!post)
    return Reply(respond, endpoint, http::JsonError(http::Status::method_not_allowed, "use POST"));
  if (path == "/admin/v1/promote") return Promote(std::move(req), std::move(respond));
  Rollback(std::move(respond));
}

void AdminHandler::Ready(http::Respond respond) {
  Color live = state_.live();
  http::Request probe{http::Verb::get, "/healthz", 11};
  dispatchers_[Idx(live)]->Send(
      std::move(probe), kReadyTimeout,
      [this, live, respond = std::move(respond)](boost::system::error_code ec,
                                                 http::Response&& res) mutable {
        if (!ec && http::IsSuccess(res)) {
          return Reply(respond, "readyz", Json(http::Status::ok, {{"live", ColorName(live)}}));
        }
        Reply(respond, "readyz",
              Json(http::Status::service_unavailable,
                   {{"error", "the live dispatcher does not answer"}, {"live", ColorName(live)}}));
      });
}

void AdminHandler::SwapTo(Color expected_live, const char* kind, const std::string& reason,
                          http::Respond& respond) {
  Color now = state_.live();
  if (now != expected_live) {
    return Reply(
        respond, kind,
        Json(http::Status::conflict, {{"error", "the live color changed meanwhile; try again"}}));
  }
  LiveSnapshot snap;
  if (auto ec = state_.SetLive(Other(now), snap)) {
    log::Error("cannot persist the swap; nothing changed",
               {{"error", ec.message()}, {"file", config_.splitter.state_file}});
    return Reply(respond, kind,
                 http::JsonError(http::Status::internal_server_error,
                                 "cannot persist the state file: " + ec.message()));
  }
  splitter_metrics_.SetLive(snap.live);
  splitter_metrics_.Swap(kind);
  log::Info(
      "live color swapped",
      {{"kind", kind}, {"from", ColorName(now)}, {"to", ColorName(snap.live)}, {"reason", reason}});
  Reply(respond, kind, http::MakeResponse(http::Status::ok, StateJson(snap)));
}

void AdminHandler::Rollback(http::Respond respond) {
  SwapTo(state_.live(), "rollback", "rollback", respond);
}

void AdminHandler::Promote(http::Request&& req, http::Respond respond) {
  json body = req.body().empty() ? json::object() : json::parse(req.body(), nullptr, false);
  if (!body.is_object()) {
    return Reply(respond, "promote",
                 http::JsonError(http::Status::bad_request, "body must be a JSON object"));
  }
  bool force = body.contains("force") && body["force"].is_boolean() && body["force"].get<bool>();
  std::string reason = body.contains("reason") && body["reason"].is_string()
                           ? body["reason"].get<std::string>()
                           : "";
  Color live = state_.live();
  if (force) {
    if (reason.empty()) {
      return Reply(respond, "promote",
                   http::JsonError(http::Status::bad_request, "a forced promotion needs a reason"));
    }
    log::Warn("forced promotion: the verdict is not checked",
              {{"reason", reason}, {"from", ColorName(live)}});
    return SwapTo(live, "forced_promote", reason, respond);
  }
  if (promoting_) {
    return Reply(respond, "promote",
                 http::JsonError(http::Status::conflict, "another promotion is being checked"));
  }
  promoting_ = true;
  http::Request get{http::Verb::get, compare_target_, 11};
  get.set(http::Field::accept, "application/json");
  compare_->Send(
      std::move(get), kCompareTimeout,
      [this, live, respond = std::move(respond)](boost::system::error_code ec,
                                                 http::Response&& res) mutable {
        promoting_ = false;
        json report = ec ? json() : json::parse(res.body(), nullptr, false);
        if (ec || res.result_int() != 200 || !report.is_object() || !report.contains("verdict")) {
          std::string why = ec ? ec.message() : "status " + std::to_string(res.result_int());
          log::Warn("promotion refused: compare cannot be reached (fail closed)", {{"error", why}});
          return Reply(
              respond, "promote",
              Json(http::Status::service_unavailable,
                   {{"error", "compare cannot be reached; promotion refused"}, {"detail", why}}));
        }
        std::string verdict =
            report["verdict"].is_string() ? report["verdict"].get<std::string>() : "";
        json reasons = report.contains("reasons") && report["reasons"].is_array()
                           ? report["reasons"]
                           : json::array();
        std::string about = report.contains("candidate") && report["candidate"].is_string()
                                ? report["candidate"].get<std::string>()
                                : ColorName(Other(live));
        if (verdict != "ready" || about != ColorName(Other(live))) {
          if (verdict == "ready")
            reasons.push_back("the report judges " + about + ", not the candidate");
          log::Info("promotion refused", {{"verdict", verdict}, {"reasons", reasons}});
          return Reply(respond, "promote",
                       Json(http::Status::conflict, {{"error", "the candidate is not ready"},
                                                     {"verdict", verdict},
                                                     {"reasons", reasons}}));
        }
        SwapTo(live, "promote", "verdict ready", respond);
      });
}

}  // namespace tandem::splitter
