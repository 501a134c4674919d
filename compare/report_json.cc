#include "compare/report_json.h"

#include <nlohmann/json.hpp>

namespace tandem::compare {
namespace {

using json = nlohmann::json;

json EventJson(const EventStats& e) {
  double drift = e.sent == 0 ? (e.candidate == 0 ? 0.0 : 1.0)
                             : (static_cast<double>(e.candidate) - e.sent) / e.sent;
  return {{"event", e.event},
          {"live_count", e.live},
          {"sent", e.sent},
          {"sampled_out", e.sampled_out},
          {"shed", e.shed},
          {"candidate_count", e.candidate},
          {"drift_ratio", drift},
          {"missing_in_candidate", e.missing_in_candidate},
          {"missing_in_live", e.missing_in_live},
          {"mismatched", e.mismatched},
          {"missing_in_candidate_ids", e.missing_in_candidate_ids},
          {"missing_in_live_ids", e.missing_in_live_ids},
          {"mismatched_ids", e.mismatched_ids}};
}

json VendorJson(const VendorStats& v) {
  json fields = json::array();
  for (const auto& f : v.fields) {
    fields.push_back({{"field", f.field},
                      {"change", f.change},
                      {"live", f.live},
                      {"candidate", f.candidate},
                      {"tandem_id", f.tandem_id},
                      {"count", f.count}});
  }
  return {{"vendor", v.vendor},
          {"event", v.event},
          {"live_delivered", v.live_delivered},
          {"candidate_delivered", v.candidate_delivered},
          {"live_failed", v.live_failed},
          {"candidate_failed", v.candidate_failed},
          {"only_live", v.only_live},
          {"only_candidate", v.only_candidate},
          {"only_live_ids", v.only_live_ids},
          {"only_candidate_ids", v.only_candidate_ids},
          {"payload_mismatched", v.payload_mismatched},
          {"mismatched_ids", v.mismatched_ids},
          {"payloads_recorded", v.payloads_recorded},
          {"fields", fields}};
}

json WindowJson(const WindowReport& w) {
  json events = json::array(), deliveries = json::array();
  for (const auto& e : w.events) events.push_back(EventJson(e));
  for (const auto& v : w.deliveries) deliveries.push_back(VendorJson(v));
  return {{"start_ms", w.start_ms},
          {"end_ms", w.end_ms},
          {"state", w.state == WindowState::kJudged ? "judged" : "spans_swap"},
          {"live_count", w.live_count},
          {"candidate_count", w.candidate_count},
          {"sent", w.sent},
          {"sampled_out", w.sampled_out},
          {"shed", w.shed},
          {"missing_in_candidate", w.missing_in_candidate},
          {"missing_in_live", w.missing_in_live},
          {"mismatched", w.mismatched},
          {"pass", w.state == WindowState::kJudged && w.pass},
          {"thin", w.thin},
          {"reasons", w.reasons},
          {"events", events},
          {"deliveries", deliveries}};
}

}  // namespace

json ReportToJson(const Report& r) {
  json windows = json::array();
  for (const auto& w : r.windows) windows.push_back(WindowJson(w));
  const Evidence& e = r.evidence;
  json by_event = json::array();
  for (const auto& x : e.by_event) {
    by_event.push_back({{"event", x.event},
                        {"windows", x.windows},
                        {"sent", x.sent},
                        {"lost", x.lost},
                        {"p_value", x.p_value},
                        {"above_limit", x.above_limit}});
  }
  json evidence = {{"windows", e.windows},
                   {"sent_events", e.sent_events},
                   {"lost", e.lost},
                   {"loss_upper_bound", e.upper_bound},
                   {"confidence", 0.95},
                   {"sentence", e.sentence},
                   {"needed", e.needed},
                   {"events_needed", e.events_needed ? json(*e.events_needed) : json(nullptr)},
                   {"seconds_needed", e.seconds_needed ? json(*e.seconds_needed) : json(nullptr)},
                   {"by_event", by_event}};
  return {{"generated_at_ms", r.generated_at_ms},
          {"live", r.live.empty() ? json(nullptr) : json(r.live)},
          {"candidate", r.candidate.empty() ? json(nullptr) : json(r.candidate)},
          {"state_changed_at_ms", r.state_changed_at_ms},
          {"verdict", VerdictName(r.verdict)},
          {"reasons", r.reasons},
          {"errors", r.errors},
          {"evidence", evidence},
          {"next_judged_at_ms", r.next_judged_at_ms ? json(*r.next_judged_at_ms) : json(nullptr)},
          {"settings",
           {{"window_seconds", r.window_seconds},
            {"settle_seconds", r.settle_seconds},
            {"max_drift_ratio", r.max_drift_ratio},
            {"min_events_per_window", r.min_events_per_window},
            {"windows_required", r.windows_required}}},
          {"windows", windows}};
}

}  // namespace tandem::compare
