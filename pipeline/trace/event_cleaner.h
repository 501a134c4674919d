// Turns a raw event from the dispatcher into what every tracker builds its
// payload from: validated (SPEC section 10), allowlisted, scrubbed, with the
// context the seed's generateContext built (user agent, client IP, page, locale).
// Deterministic: the same event and headers give the same CleanEvent in both colors.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "common/config.h"
#include "pipeline/trace/scrubber.h"

namespace tandem::trace {

// An event as the dispatcher's forwarder sends it: the body and its stamps.
struct StampedEvent {
  std::string tandem_id;
  int64_t received_at_ms = 0;
  std::string role;  // live | candidate
  std::string body;
  std::string user_agent;
  std::string forwarded_for;  // X-Forwarded-For; the splitter appended the client's address
  std::string accept_language;
  std::string referer;
  std::string origin;
};

struct EventContext {
  std::string ip;          // the client's address, anonymised (IPv4 /24, IPv6 /48)
  std::string user_agent;  // scrubbed
  std::string locale;      // the first Accept-Language tag, e.g. "en-US"
  std::string page_url;    // the Referer (the page that sent the event), scrubbed
  std::string page_path;
  std::string origin;
};

struct CleanEvent {
  std::string tandem_id;
  int64_t received_at_ms = 0;
  std::string name;
  std::string device_id;
  std::optional<std::string> user_id;
  nlohmann::json properties = nlohmann::json::object();  // allowlisted and scrubbed
  EventContext context;
};

struct CleanResult {
  std::optional<CleanEvent> event;
  std::string reject_reason;  // when !event: invalid_json | invalid_schema | not_allowlisted
  std::string detail;
  uint32_t properties_dropped = 0;
  ScrubCounts scrubbed{};
};

class EventCleaner {
 public:
  explicit EventCleaner(const PipelineConfig& config);
  CleanResult Clean(const StampedEvent& in) const;

 private:
  EventContext Context(const StampedEvent& in, ScrubCounts& counts) const;

  std::map<std::string, std::set<std::string>, std::less<>> allowed_;
  std::set<std::string, std::less<>> any_event_;
  Scrubber scrubber_;
};

}  // namespace tandem::trace
