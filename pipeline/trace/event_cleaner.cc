#include "pipeline/trace/event_cleaner.h"

#include "pipeline/trace/sparrow_event.h"

namespace tandem::trace {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The splitter appends the address it saw to X-Forwarded-For: the last entry
// is the one Tandem vouches for (earlier ones are whatever the client claimed).
std::string_view ClientAddress(std::string_view xff) {
  size_t comma = xff.rfind(',');
  return Trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
}

std::string FirstLanguage(std::string_view accept_language) {
  std::string_view first = accept_language.substr(0, accept_language.find(','));
  first = Trim(first.substr(0, first.find(';')));
  std::string out;
  for (char c : first) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || out.size() >= 35) return "";  // not a language tag
    out += c;
  }
  return out == "*" ? "" : out;
}

// The path of an absolute URL ("/" when it has none); empty for anything else.
std::string PathOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return "/";
  return url.substr(slash, url.find_first_of("?#", slash) - slash);
}

}  // namespace

EventCleaner::EventCleaner(const PipelineConfig& config)
    : any_event_(config.allowlist_any_event.begin(), config.allowlist_any_event.end()),
      scrubber_(config.scrub) {
  for (const auto& [event, props] : config.allowlist_events) {
    allowed_[event] = std::set<std::string>(props.begin(), props.end());
  }
}

EventContext EventCleaner::Context(const StampedEvent& in, ScrubCounts& counts) const {
  EventContext c;
  c.ip = AnonymizeIp(ClientAddress(in.forwarded_for));
  c.user_agent = in.user_agent;
  scrubber_.ScrubString(c.user_agent, counts);
  c.locale = FirstLanguage(in.accept_language);
  // A Referer is one URL: browsers never send raw spaces in it, so any are
  // encoded first and the whole value is cleaned as a URL.
  for (char ch : in.referer) {
    if (ch == ' ') {
      c.page_url += "%20";
    } else {
      c.page_url += ch;
    }
  }
  scrubber_.ScrubString(c.page_url, counts);
  c.page_path = PathOf(c.page_url);
  c.origin = in.origin;
  scrubber_.ScrubString(c.origin, counts);
  return c;
}

CleanResult EventCleaner::Clean(const StampedEvent& in) const {
  CleanResult out;
  ParsedEvent parsed = ParseSparrowEvent(in.body);
  if (!parsed.event) {
    out.reject_reason = parsed.failure.reason;
    out.detail = parsed.failure.detail;
    return out;
  }
  SparrowEvent& e = *parsed.event;
  auto allowed = allowed_.find(e.event);
  if (allowed == allowed_.end()) {
    out.reject_reason = "not_allowlisted";
    out.detail = "the event name is not in pipeline.allowlist.events";
    return out;
  }
  CleanEvent c;
  c.tandem_id = in.tandem_id;
  c.received_at_ms = in.received_at_ms;
  c.name = e.event;
  c.device_id = e.device_id;
  scrubber_.ScrubString(c.device_id, out.scrubbed);
  if (e.user_id) {
    std::string user = *e.user_id;
    // An id that carried personal data is dropped rather than sent as "[email]".
    if (!scrubber_.ScrubString(user, out.scrubbed)) c.user_id = std::move(user);
  }
  for (auto& [key, value] : e.properties.items()) {
    if (!allowed->second.count(key) && !any_event_.count(key)) {
      ++out.properties_dropped;
      continue;
    }
    scrubber_.ScrubJson(value, out.scrubbed);
    c.properties[key] = std::move(value);
  }
  c.context = Context(in, out.scrubbed);
  out.event = std::move(c);
  return out;
}

}  // namespace tandem::trace
