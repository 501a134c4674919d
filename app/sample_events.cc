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
      e["properties"] = {{"plan", (h >> 4) % 2 ? "free" : "pro"}};
      break;
    default: {
      size_t p = (h >> 12) % 7;
      e["event"] = "pageview";
      e["properties"] = {
          {"path", paths[p]}, {"referrer", "https://www.example.com/"}, {"title", titles[p]}};
    }
  }
  return e.dump();
}

}  // namespace tandem::app
