#include "compare/live_state_reader.h"

#include <nlohmann/json.hpp>

#include "common/admin_api.h"
#include "common/fetch.h"

namespace tandem::compare {

std::optional<LiveState> ReadLiveState(const Config& config, std::string& error) {
  std::string token = AdminToken(config);
  if (token.empty()) {
    error = "the admin token is not set (export " + config.splitter.admin_token_env + ")";
    return std::nullopt;
  }
  std::string url = AdminUrl(config, "/admin/v1/state");
  http::FetchResult r = http::Fetch(http::Verb::get, url, "", token, std::chrono::seconds(2));
  if (r.ec) {
    error = "cannot reach the splitter's admin API at " + url + ": " + r.ec.message();
    return std::nullopt;
  }
  if (r.res.result_int() != 200) {
    error =
        "the splitter's admin API answered " + std::to_string(r.res.result_int()) + " at " + url;
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(r.res.body(), nullptr, false);
  std::optional<Color> live;
  if (j.is_object() && j.contains("live") && j["live"].is_string())
    live = ParseColor(j["live"].get<std::string>());
  if (!live) {
    error = "the splitter's admin state names no live color: " + r.res.body().substr(0, 200);
    return std::nullopt;
  }
  LiveState s;
  s.live = *live;
  if (j.contains("changed_at_ms") && j["changed_at_ms"].is_number_integer())
    s.changed_at_ms = j["changed_at_ms"].get<int64_t>();
  return s;
}

}  // namespace tandem::compare
