// The splitter's admin listener: health, readiness, metrics, and the
// token-guarded state/promote/rollback API (SPEC section 4).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "common/url.h"
#include "splitter/live_state.h"
#include "splitter/splitter_metrics.h"
#include "splitter/state_store.h"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace tandem::splitter {

// What SIGHUP may change on the admin listener. Built (and validated) before
// anything is applied, so a bad reload changes nothing.
struct AdminSettings {
  Url compare_report;        // compare_url + /v1/report
  std::string token_env;     // the variable the token came from, for the log
  std::string token_digest;  // SHA-256 of the admin token; empty when unset
  double mirror_fraction = 1.0;
  // Throws std::runtime_error when compare_url cannot be used.
  static AdminSettings From(const Config& config);
};

class AdminHandler : public http::Handler {
 public:
  // All callbacks run on `io`, the admin listener's single thread.
  AdminHandler(boost::asio::io_context& io, const Config& config, LiveState& state,
               StateStore& store, Metrics& metrics, SplitterMetrics& splitter_metrics,
               std::function<void()> before_scrape);
  ~AdminHandler() override;

  void Handle(http::Request&& req, const http::RequestInfo& info, http::Respond respond) override;
  // SIGHUP, on the admin thread: settings already validated by AdminSettings::From.
  void Apply(AdminSettings settings);

 private:
  // A parsed promote/rollback body.
  struct SwapRequest {
    bool force = false;
    std::string reason;
    std::optional<Color> expect_live;
  };
  void Promote(const SwapRequest& sr, http::Respond respond);
  void Ready(http::Respond respond);
  void SwapTo(Color expected_live, const char* kind, const std::string& reason,
              http::Respond respond);
  void Swapped(const SwapResult& r, Color from, const char* kind, const std::string& reason,
               http::Respond& respond);
  bool Authorized(const http::Request& req) const;
  std::string StateJson(const LiveSnapshot& s) const;
  void Reply(http::Respond& respond, const char* endpoint, http::Response&& res);

  boost::asio::io_context& io_;
  std::unique_ptr<boost::asio::ssl::context> ssl_;
  std::string state_file_;
  LiveState& state_;
  StateStore& store_;
  Metrics& metrics_;
  SplitterMetrics& splitter_metrics_;
  std::function<void()> before_scrape_;
  AdminSettings settings_;
  std::shared_ptr<http::ClientPool> compare_;
  std::vector<std::shared_ptr<http::ClientPool>> dispatchers_[2];  // per address
  bool promoting_ = false;
};

}  // namespace tandem::splitter
