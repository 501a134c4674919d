#include "compare/event_evidence.h"

#include <map>

#include "compare/loss_bound.h"

namespace tandem::compare {

std::vector<EventEvidence> EventsEvidence(const std::vector<const WindowReport*>& judged,
                                          double max_ratio) {
  std::map<std::string, EventEvidence> by_name;
  for (const WindowReport* w : judged) {
    for (const EventStats& e : w->events) {
      if (e.sent == 0) continue;
      EventEvidence& ev = by_name[e.event];
      ev.event = e.event;
      ++ev.windows;
      ev.sent += e.sent;
      ev.lost += e.missing_in_candidate;
      if (!e.missing_in_candidate_ids.empty()) ev.example_id = e.missing_in_candidate_ids.front();
    }
  }
  std::vector<EventEvidence> out;
  out.reserve(by_name.size());
  for (auto& [name, ev] : by_name) {
    ev.p_value = LossAboveLimitPValue(ev.lost, ev.sent, max_ratio);
    ev.above_limit = ev.p_value < 1 - kConfidence;
    out.push_back(std::move(ev));
  }
  return out;
}

}  // namespace tandem::compare
