#include "compare/compare_metrics.h"

#include <map>

#include "compare/window_diff.h"

namespace tandem::compare {

CompareMetrics::CompareMetrics(Metrics& m, std::set<std::string> events,
                               std::vector<std::string> vendors)
    : events_(std::move(events)),
      vendors_(std::move(vendors)),
      events_gauge_(m.Gauge("tandem_compare_events",
                            "Events in the latest judged window, by color and event name")),
      drift_(m.Gauge("tandem_compare_drift_ratio",
                     "(candidate - sent) / sent in the latest judged window, by event; sent: "
                     "live's events the splitter sent the candidate a copy of")),
      mirror_(m.Gauge("tandem_compare_mirror_events",
                      "Live's events in the latest judged window by what became of the "
                      "candidate's copy (raw.mirror): sent, sampled_out, shed")),
      missing_(m.Gauge("tandem_compare_missing_events",
                       "Ids on one side only in the latest judged window; side = the side "
                       "that lacks them")),
      mismatched_(m.Gauge("tandem_compare_mismatched_events",
                          "Ids whose raw body differs between colors in the latest judged window")
                      .Add({})),
      ready_(
          m.Gauge("tandem_compare_promotion_ready", "1 when the verdict is ready, else 0").Add({})),
      verdict_(m.Gauge("tandem_compare_verdict", "1 for the current verdict")),
      bound_(m.Gauge("tandem_compare_loss_upper_bound",
                     "95% upper confidence bound on the candidate's loss rate over the "
                     "trailing passing windows")
                 .Add({})),
      evidence_events_(
          m.Gauge("tandem_compare_evidence_events",
                  "Events sent to the candidate in the trailing run of passing windows")
              .Add({})),
      payload_mismatched_(m.Gauge("tandem_compare_payload_mismatched",
                                  "Events whose vendor payload_hash differs between colors in "
                                  "the latest judged window, by vendor")),
      vendor_deliveries_(m.Gauge("tandem_compare_vendor_deliveries",
                                 "Deliveries in the latest judged window by color, vendor and "
                                 "outcome (delivered: delivered or skipped)")),
      vendor_one_sided_(m.Gauge("tandem_compare_vendor_one_sided",
                                "Events with a delivery row on one side only in the latest judged "
                                "window; side = the side that lacks it")),
      judged_window_end_(m.Gauge("tandem_compare_judged_window_end_seconds",
                                 "End of the latest judged window (Unix seconds)")
                             .Add({})),
      last_run_(m.Gauge("tandem_compare_last_run_seconds", "When compare last ran (Unix seconds)")
                    .Add({})),
      windows_judged_(
          m.Counter("tandem_compare_windows_judged_total", "Windows read and reconciled").Add({})),
      errors_(m.Counter("tandem_compare_errors_total",
                        "Runs that could not read a dataset or the splitter's state")
                  .Add({})),
      run_seconds_(m.Histogram("tandem_compare_run_seconds", "Time for one compare run")
                       .Add({}, Metrics::LatencyBuckets())),
      max_drift_ratio_(m.Gauge("tandem_compare_max_drift_ratio",
                               "The configured max_drift_ratio the verdict is judged against")
                           .Add({})),
      window_seconds_(
          m.Gauge("tandem_compare_window_seconds", "The configured window_seconds").Add({})),
      settle_seconds_(
          m.Gauge("tandem_compare_settle_seconds", "The configured settle_seconds").Add({})) {
  for (const char* v : {"ready", "not_ready", "insufficient_data"}) verdict_.Add({{"verdict", v}});
}

void CompareMetrics::SetSettings(const CompareConfig& c) {
  max_drift_ratio_.Set(c.max_drift_ratio);
  window_seconds_.Set(c.window_seconds);
  settle_seconds_.Set(c.settle_seconds);
}

std::string CompareMetrics::Label(const std::string& event) const {
  if (events_.count(event) || event == kInvalidEvent) return event;
  return kOtherEvents;
}

void CompareMetrics::Record(const Report& r, const RunStats& stats, double run_seconds) {
  ready_.Set(r.verdict == Verdict::kReady ? 1 : 0);
  for (const char* v : {"ready", "not_ready", "insufficient_data"})
    verdict_.Add({{"verdict", v}}).Set(std::string(VerdictName(r.verdict)) == v ? 1 : 0);
  bound_.Set(r.evidence.upper_bound);
  evidence_events_.Set(static_cast<double>(r.evidence.sent_events));
  last_run_.Set(static_cast<double>(r.generated_at_ms) / 1000.0);
  windows_judged_.Increment(static_cast<double>(stats.windows_judged));
  if (!r.errors.empty()) errors_.Increment();
  run_seconds_.Observe(run_seconds);

  const WindowReport* latest = nullptr;
  for (const auto& w : r.windows)
    if (w.state == WindowState::kJudged) latest = &w;
  if (!latest) return;
  judged_window_end_.Set(static_cast<double>(latest->end_ms) / 1000.0);

  // label -> live, candidate, sent (live's events the candidate was sent)
  struct Counts {
    uint64_t live = 0, candidate = 0, sent = 0;
  };
  std::map<std::string, Counts> counts;
  // Every label ever set is set again (to 0 when absent), so no gauge keeps a
  // value from an older window.
  for (const auto& e : events_) counts[e];
  counts[kOtherEvents];
  counts[kInvalidEvent];
  for (const auto& e : latest->events) {
    auto& c = counts[Label(e.event)];
    c.live += e.live;
    c.candidate += e.candidate;
    c.sent += e.sent;
  }
  for (const auto& [label, c] : counts) {
    events_gauge_.Add({{"color", r.live}, {"event", label}}).Set(static_cast<double>(c.live));
    events_gauge_.Add({{"color", r.candidate}, {"event", label}})
        .Set(static_cast<double>(c.candidate));
    // Against what the candidate was sent: sampling is not drift.
    double drift = c.sent == 0 ? (c.candidate == 0 ? 0.0 : 1.0)
                               : (static_cast<double>(c.candidate) - c.sent) / c.sent;
    drift_.Add({{"event", label}}).Set(drift);
  }
  mirror_.Add({{"outcome", "sent"}}).Set(static_cast<double>(latest->sent));
  mirror_.Add({{"outcome", "sampled_out"}}).Set(static_cast<double>(latest->sampled_out));
  mirror_.Add({{"outcome", "shed"}}).Set(static_cast<double>(latest->shed));
  missing_.Add({{"side", "candidate"}}).Set(static_cast<double>(latest->missing_in_candidate));
  missing_.Add({{"side", "live"}}).Set(static_cast<double>(latest->missing_in_live));
  mismatched_.Set(static_cast<double>(latest->mismatched));

  struct Sums {
    uint64_t live_ok = 0, live_failed = 0, cand_ok = 0, cand_failed = 0, only_live = 0,
             only_cand = 0, mismatched = 0;
  };
  std::map<std::string, Sums> by_vendor;
  for (const auto& v : vendors_) by_vendor[v];
  for (const auto& v : latest->deliveries) {
    if (!by_vendor.count(v.vendor)) continue;  // a vendor no longer configured
    Sums& s = by_vendor[v.vendor];
    s.live_ok += v.live_delivered;
    s.live_failed += v.live_failed;
    s.cand_ok += v.candidate_delivered;
    s.cand_failed += v.candidate_failed;
    s.only_live += v.only_live;
    s.only_cand += v.only_candidate;
    s.mismatched += v.payload_mismatched;
  }
  for (const auto& [vendor, s] : by_vendor) {
    auto set = [&](const std::string& color, const char* outcome, uint64_t n) {
      vendor_deliveries_.Add({{"color", color}, {"vendor", vendor}, {"outcome", outcome}})
          .Set(static_cast<double>(n));
    };
    set(r.live, "delivered", s.live_ok);
    set(r.live, "failed", s.live_failed);
    set(r.candidate, "delivered", s.cand_ok);
    set(r.candidate, "failed", s.cand_failed);
    // side = the side lacking the row, as for missing_events.
    vendor_one_sided_.Add({{"vendor", vendor}, {"side", "candidate"}})
        .Set(static_cast<double>(s.only_live));
    vendor_one_sided_.Add({{"vendor", vendor}, {"side", "live"}})
        .Set(static_cast<double>(s.only_cand));
    payload_mismatched_.Add({{"vendor", vendor}}).Set(static_cast<double>(s.mismatched));
  }
}

}  // namespace tandem::compare
