#include "app/sample_events.h"

#include <nlohmann/json.hpp>

namespace tandem::app {

std::string SampleEvent(uint64_t i) {
  static const char* paths[] = {"/",    "/dashboard", "/workers", "/billing",
                                "/dns", "/analytics", "/ssl-tls"};
  static const char* titles[] = {"Home", "Dashboard", "Workers", "Billing",
                                 "DNS",  "Analytics", "SSL/TLS"};
  static const char* products[] = {"workers", "r2", "images", "stream", "access"};
  static const char* categories[] = {"billing", "developer", "media", "zero-trust"};
  uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  nlohmann::json e;
  std::string device = "device-" + std::to_string(h % 5000);
  // About one in fifty is not JSON at all (a broken client): kept in `raw`,
  // rejected by trace.
  if (h % 50 == 7) return R"({"event":"pageview","deviceId":")" + device + R"(", broken)";
  e["deviceId"] = device;
  if (h % 3 == 0) e["userId"] = "user-" + std::to_string(h % 2000);
  switch (h % 10) {
    case 0:
    case 1:
      e["event"] = "purchase product";
      e["properties"] = {{"category", categories[h % 4]}, {"productName", products[(h >> 8) % 5]}};
      break;
    case 2:
      e["event"] = "signup";
      // Personal data a careless page sends: off the allowlist, trace drops it.
      e["properties"] = {{"plan", (h >> 4) % 2 ? "free" : "pro"},
                         {"email", "user-" + std::to_string(h % 2000) + "@example.com"}};
      break;
    default: {
      size_t p = (h >> 12) % 7;
      e["event"] = "pageview";
      // Some referrers carry a secret in their query string: trace keeps only
      // the allowed parameters.
      std::string referrer = (h >> 20) % 5 == 0
                                 ? "https://www.example.com/?utm_source=newsletter&token=" +
                                       std::to_string(h % 1000003)
                                 : "https://www.example.com/";
      e["properties"] = {{"path", paths[p]}, {"referrer", referrer}, {"title", titles[p]}};
    }
  }
  return e.dump();
}

}  // namespace tandem::app
