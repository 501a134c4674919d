// The splitter's admin listener: health, readiness, metrics, and the
// token-guarded state/promote/rollback API (SPEC section 4).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "splitter/live_state.h"
#include "splitter/splitter_metrics.h"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace tandem::splitter {

class AdminHandler : public http::Handler {
 public:
  // All callbacks run on `io`, the admin listener's single thread.
  AdminHandler(boost::asio::io_context& io, const Config& config, LiveState& state,
               Metrics& metrics, SplitterMetrics& splitter_metrics,
               std::function<void()> before_scrape);
  ~AdminHandler() override;

  void Handle(http::Request&& req, const http::RequestInfo& info, http::Respond respond) override;
  // SIGHUP: a new token variable, compare URL or mirror fraction.
  void Reload(const Config& config);

 private:
  void Promote(http::Request&& req, http::Respond respond);
  void Rollback(http::Respond respond);
  void Ready(http::Respond respond);
  void SwapTo(Color expected_live, const char* kind, const std::string& reason,
              http::Respond& respond);
  bool Authorized(const http::Request& req) const;
  std::string StateJson(const LiveSnapshot& s) const;
  void Reply(http::Respond& respond, const char* endpoint, http::Response&& res);

  boost::asio::io_context& io_;
  std::unique_ptr<boost::asio::ssl::context> ssl_;
  Config config_;
  LiveState& state_;
  Metrics& metrics_;
  SplitterMetrics& splitter_metrics_;
  std::function<void()> before_scrape_;
  std::shared_ptr<http::ClientPool> compare_;
  std::string compare_target_;
  std::shared_ptr<http::ClientPool> dispatchers_[2];
  std::string token_digest_;  // SHA-256 of the admin token; empty when unset
  bool promoting_ = false;
};

}  // namespace tandem::splitter
