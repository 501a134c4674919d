#include "compare/window_diff.h"

#include <algorithm>
#include <map>
#include <set>

#include "compare/payload_diff.h"

namespace tandem::compare {
namespace {

void Keep(std::vector<std::string>& examples, const ColorWindow& w, const IdKey& id) {
  if (examples.size() < kExamples) examples.push_back(w.IdText(id));
}

// Folds unbounded client-chosen names into a bounded set of labels, first come
// first kept, shared by both colors.
class EventLabels {
 public:
  size_t Label(const std::string& event) {
    const std::string& name = event.empty() ? std::string(kInvalidEvent) : event;
    auto it = index_.find(name);
    if (it != index_.end()) return it->second;
    if (index_.size() >= kMaxEventNames && name != kOtherEvents && name != kInvalidEvent)
      return Label(kOtherEvents);
    size_t i = stats_.size();
    stats_.emplace_back();
    stats_.back().event = name;
    index_.emplace(name, i);
    return i;
  }
  // Per color: its interned event index -> label index.
  std::vector<size_t> Map(const Names& names) {
    std::vector<size_t> out;
    for (size_t i = 0; i < names.size(); ++i)
      out.push_back(Label(names.at(static_cast<uint32_t>(i))));
    return out;
  }
  std::vector<EventStats>& stats() { return stats_; }

 private:
  std::map<std::string, size_t> index_;
  std::vector<EventStats> stats_;
};

}  // namespace

WindowDiff DiffWindow(const ColorWindow& live, const ColorWindow& candidate) {
  WindowDiff out;
  WindowReport& w = out.report;
  EventLabels labels;
  const std::vector<size_t> live_ev = labels.Map(live.events),
                            cand_ev = labels.Map(candidate.events);
  auto& events = labels.stats();

  // Raw: a merge of the two id-sorted lists. A live event whose copy the
  // candidate was never sent (sampled out, shed) is not missing in it; its ids
  // are kept, in id order, so its deliveries are left out below too.
  std::vector<IdKey> unsent;
  for (size_t i = 0, j = 0; i < live.raw.size() || j < candidate.raw.size();) {
    const RawFact* l = i < live.raw.size() ? &live.raw[i] : nullptr;
    const RawFact* c = j < candidate.raw.size() ? &candidate.raw[j] : nullptr;
    if (l && (!c || l->id < c->id)) {
      EventStats& e = events[live_ev[l->event]];
      ++e.live;
      if (l->mirror == Mirror::kSampledOut) {
        ++e.sampled_out;
        unsent.push_back(l->id);
      } else if (l->mirror == Mirror::kShed) {
        ++e.shed;
        unsent.push_back(l->id);
      } else {
        ++e.sent;
        ++e.missing_in_candidate;
        w.missing_unmarked += l->mirror == Mirror::kUnmarked;
        Keep(e.missing_in_candidate_ids, live, l->id);
      }
      ++i;
    } else if (c && (!l || c->id < l->id)) {
      EventStats& e = events[cand_ev[c->event]];
      ++e.candidate;
      ++e.missing_in_live;
      Keep(e.missing_in_live_ids, candidate, c->id);
      ++j;
    } else {
      // Both have it: it was sent, whatever live's row says (a splitter's
      // setting changing under the event).
      EventStats& e = events[live_ev[l->event]];
      ++e.live;
      ++e.sent;
      ++events[cand_ev[c->event]].candidate;
      if (l->fingerprint != c->fingerprint) {
        ++e.mismatched;
        Keep(e.mismatched_ids, live, l->id);
      }
      ++i;
      ++j;
    }
  }

  // Deliveries: a merge on (id, vendor); each id's event label from either raw list.
  std::map<std::string, size_t> vendor_index;  // unified vendor names
  auto unify = [&](const Names& names) {
    std::vector<size_t> map;
    for (size_t i = 0; i < names.size(); ++i)
      map.push_back(vendor_index.emplace(names.at(static_cast<uint32_t>(i)), vendor_index.size())
                        .first->second);
    return map;
  };
  const std::vector<size_t> live_vendor = unify(live.vendors),
                            cand_vendor = unify(candidate.vendors);
  std::vector<std::string> vendor_names(vendor_index.size());
  for (const auto& [name, i] : vendor_index) vendor_names[i] = name;
  std::map<std::pair<size_t, size_t>, VendorStats> vendors;  // (vendor, event label)
  size_t li = 0, ci = 0;  // cursors into the raw lists, which are sorted by id too
  const size_t invalid = labels.Label(kInvalidEvent);
  auto label_of = [&](const IdKey& id) {
    while (li < live.raw.size() && live.raw[li].id < id) ++li;
    if (li < live.raw.size() && live.raw[li].id == id) return live_ev[live.raw[li].event];
    while (ci < candidate.raw.size() && candidate.raw[ci].id < id) ++ci;
    if (ci < candidate.raw.size() && candidate.raw[ci].id == id)
      return cand_ev[candidate.raw[ci].event];
    return invalid;
  };
  // Each side's list is sorted by its own vendor numbering; re-sort by the unified one.
  std::vector<DeliveryFact> ld = live.deliveries, cd = candidate.deliveries;
  for (auto& d : ld) d.vendor = static_cast<uint32_t>(live_vendor[d.vendor]);
  for (auto& d : cd) d.vendor = static_cast<uint32_t>(cand_vendor[d.vendor]);
  std::sort(ld.begin(), ld.end());
  std::sort(cd.begin(), cd.end());
  size_t ui = 0;  // cursor into `unsent`, sorted by id like the deliveries
  auto was_sent = [&](const IdKey& id) {
    while (ui < unsent.size() && unsent[ui] < id) ++ui;
    return ui >= unsent.size() || unsent[ui] != id;
  };
  for (size_t i = 0, j = 0; i < ld.size() || j < cd.size();) {
    const DeliveryFact* l = i < ld.size() ? &ld[i] : nullptr;
    const DeliveryFact* c = j < cd.size() ? &cd[j] : nullptr;
    bool only_live = l && (!c || *l < *c);
    bool only_cand = !only_live && c && (!l || *c < *l);
    const DeliveryFact& d = only_cand ? *c : *l;
    if (only_live && !was_sent(d.id)) {  // the candidate never had the event
      ++i;
      continue;
    }
    VendorStats& v = vendors[{d.vendor, label_of(d.id)}];
    if (only_live) {
      (l->settled ? v.live_delivered : v.live_failed)++;
      ++v.only_live;
      Keep(v.only_live_ids, live, l->id);
      ++i;
    } else if (only_cand) {
      (c->settled ? v.candidate_delivered : v.candidate_failed)++;
      ++v.only_candidate;
      Keep(v.only_candidate_ids, candidate, c->id);
      ++j;
    } else {
      (l->settled ? v.live_delivered : v.live_failed)++;
      (c->settled ? v.candidate_delivered : v.candidate_failed)++;
      ++v.both;
      if (l->hash != c->hash) {
        if (v.payload_mismatched < kExamples)
          out.payload_samples.emplace_back(live.IdText(l->id), vendor_names[l->vendor]);
        ++v.payload_mismatched;
        Keep(v.mismatched_ids, live, l->id);
      }
      ++i;
      ++j;
    }
  }

  std::vector<std::string> label_names;
  for (const auto& e : events) label_names.push_back(e.event);
  std::sort(events.begin(), events.end(),
            [](const EventStats& a, const EventStats& b) { return a.event < b.event; });
  for (auto& e : events) {
    if (e.live == 0 && e.candidate == 0) continue;  // a label made only for lookups
    w.live_count += e.live;
    w.candidate_count += e.candidate;
    w.sent += e.sent;
    w.sampled_out += e.sampled_out;
    w.shed += e.shed;
    w.missing_in_candidate += e.missing_in_candidate;
    w.missing_in_live += e.missing_in_live;
    w.mismatched += e.mismatched;
    w.events.push_back(std::move(e));
  }
  for (auto& [key, v] : vendors) {
    v.vendor = vendor_names[key.first];
    v.event = label_names[key.second];
    w.deliveries.push_back(std::move(v));
  }
  std::sort(w.deliveries.begin(), w.deliveries.end(),
            [](const VendorStats& a, const VendorStats& b) {
              return a.vendor != b.vendor ? a.vendor < b.vendor : a.event < b.event;
            });
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
