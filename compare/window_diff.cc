#include "compare/window_diff.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "compare/payload_diff.h"

namespace tandem::compare {
namespace {

void Keep(std::vector<std::string>& examples, const std::string& id) {
  if (examples.size() < kExamples) examples.push_back(id);
}

// Folds unbounded client-chosen names into a bounded set, first come first kept.
class EventNames {
 public:
  const std::string& Label(const std::string& event) {
    if (event.empty()) return invalid_;
    auto it = seen_.find(event);
    if (it != seen_.end()) return *it;
    if (seen_.size() >= kMaxEventNames) return other_;
    return *seen_.insert(event).first;
  }

 private:
  std::set<std::string> seen_;
  const std::string invalid_ = kInvalidEvent, other_ = kOtherEvents;
};

bool Settled(const std::string& outcome) { return outcome == "delivered" || outcome == "skipped"; }

}  // namespace

WindowDiff DiffWindow(const ColorWindow& live, const ColorWindow& candidate) {
  WindowDiff out;
  WindowReport& w = out.report;
  EventNames names;
  std::map<std::string, EventStats> events;
  std::unordered_map<std::string, const std::string*> event_of;  // tandem_id -> label
  event_of.reserve(live.raw.size() + candidate.raw.size());

  for (const auto& [id, facts] : live.raw) {
    const std::string& ev = names.Label(facts.event);
    event_of[id] = &ev;
    EventStats& e = events[ev];
    ++e.live;
    auto it = candidate.raw.find(id);
    if (it == candidate.raw.end()) {
      ++e.missing_in_candidate;
      Keep(e.missing_in_candidate_ids, id);
    } else if (it->second.fingerprint != facts.fingerprint) {
      ++e.mismatched;
      Keep(e.mismatched_ids, id);
    }
  }
  for (const auto& [id, facts] : candidate.raw) {
    const std::string& ev = names.Label(facts.event);
    auto [it, fresh] = event_of.emplace(id, &ev);
    EventStats& e = events[*it->second];
    ++e.candidate;
    if (fresh) {
      ++e.missing_in_live;
      Keep(e.missing_in_live_ids, id);
    }
  }
  for (auto& [name, e] : events) {
    e.event = name;
    w.live_count += e.live;
    w.candidate_count += e.candidate;
    w.missing_in_candidate += e.missing_in_candidate;
    w.missing_in_live += e.missing_in_live;
    w.mismatched += e.mismatched;
    w.events.push_back(std::move(e));
  }

  std::map<std::pair<std::string, std::string>, VendorStats> vendors;
  static const std::string kUnknown = kInvalidEvent;
  auto event_label = [&](const std::string& id) -> const std::string& {
    auto it = event_of.find(id);
    return it == event_of.end() ? kUnknown : *it->second;
  };
  for (const auto& [id, rows] : live.deliveries) {
    const std::string& ev = event_label(id);
    auto other = candidate.deliveries.find(id);
    for (const auto& d : rows) {
      VendorStats& v = vendors[{d.vendor, ev}];
      (Settled(d.outcome) ? v.live_delivered : v.live_failed)++;
      const DeliveryFacts* match = nullptr;
      if (other != candidate.deliveries.end()) {
        for (const auto& c : other->second)
          if (c.vendor == d.vendor) match = &c;
      }
      if (!match) {
        ++v.only_live;
        Keep(v.only_live_ids, id);
        continue;
      }
      ++v.both;
      if (match->payload_hash != d.payload_hash) {
        if (v.payload_mismatched < kExamples) out.payload_samples.emplace_back(id, d.vendor);
        ++v.payload_mismatched;
        Keep(v.mismatched_ids, id);
      }
    }
  }
  for (const auto& [id, rows] : candidate.deliveries) {
    const std::string& ev = event_label(id);
    auto other = live.deliveries.find(id);
    for (const auto& c : rows) {
      VendorStats& v = vendors[{c.vendor, ev}];
      (Settled(c.outcome) ? v.candidate_delivered : v.candidate_failed)++;
      bool matched = other != live.deliveries.end() &&
                     std::any_of(other->second.begin(), other->second.end(),
                                 [&](const DeliveryFacts& d) { return d.vendor == c.vendor; });
      if (!matched) {
        ++v.only_candidate;
        Keep(v.only_candidate_ids, id);
      }
    }
  }
  for (auto& [key, v] : vendors) {
    v.vendor = key.first;
    v.event = key.second;
    w.deliveries.push_back(std::move(v));
  }
  return out;
}

void AddPayloadFields(const std::vector<std::pair<PayloadKey, std::string>>& live_payloads,
                      const std::vector<std::pair<PayloadKey, std::string>>& candidate_payloads,
                      WindowReport& report) {
  std::map<PayloadKey, const std::string*> cand;
  for (const auto& [key, payload] : candidate_payloads) cand[key] = &payload;
  constexpr size_t kMaxFields = 20;
  for (const auto& [key, payload] : live_payloads) {
    auto it = cand.find(key);
    if (it == cand.end()) continue;
    // The vendor entry for this id: its event label is the one DiffWindow gave it.
    for (auto& v : report.deliveries) {
      if (v.vendor != key.second || std::find(v.mismatched_ids.begin(), v.mismatched_ids.end(),
                                              key.first) == v.mismatched_ids.end()) {
        continue;
      }
      for (const auto& change : DiffPayloads(payload, *it->second)) {
        auto f = std::find_if(v.fields.begin(), v.fields.end(), [&](const FieldDiff& x) {
          return x.field == change.field && x.change == change.change;
        });
        if (f != v.fields.end()) {
          ++f->count;
        } else if (v.fields.size() < kMaxFields) {
          v.fields.push_back(
              {change.field, change.change, change.live, change.candidate, key.first, 1});
        }
      }
      break;
    }
  }
  // A mismatch whose payloads were not recorded on both sides cannot be diffed.
  for (auto& v : report.deliveries) {
    if (v.payload_mismatched > 0 && v.fields.empty()) v.payloads_recorded = false;
  }
}

}  // namespace tandem::compare
