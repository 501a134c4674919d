#include "compare/verdict.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/clock.h"
#include "compare/event_evidence.h"
#include "compare/loss_bound.h"

namespace tandem::compare {
namespace {

std::string Percent(double ratio) {
  char buf[32];
  double p = ratio * 100;
  std::snprintf(buf, sizeof buf, std::fabs(p) >= 1 ? "%.1f%%" : "%.2g%%", p);
  return buf;
}

std::string Count(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Duration(double seconds) {
  char buf[32];
  if (seconds < 90) {
    std::snprintf(buf, sizeof buf, "%.0f s", std::ceil(seconds));
  } else if (seconds < 5400) {
    std::snprintf(buf, sizeof buf, "%.0f min", std::ceil(seconds / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  }
  return buf;
}

double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? (part == 0 ? 0.0 : 1.0) : static_cast<double>(part) / whole;
}

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

std::string WindowName(int64_t start_ms, int64_t end_ms) {
  return UtcClock(start_ms) + "-" + UtcClock(end_ms) + " UTC";
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kReady:
      return "ready";
    case Verdict::kNotReady:
      return "not_ready";
    case Verdict::kInsufficientData:
      return "insufficient_data";
  }
  return "not_ready";
}

void JudgeWindow(const CompareConfig& config, WindowReport& w) {
  const double max = config.max_drift_ratio;
  const std::string name = "window " + WindowName(w.start_ms, w.end_ms);
  w.reasons.clear();
  // The candidate is judged on what it was sent: events sampled out or shed
  // count nowhere but in their own totals.
  w.thin = w.sent < config.min_events_per_window;
  auto fail = [&](std::string why) { w.reasons.push_back(name + ", " + why); };
  // Of the copies the sample offered the candidate (sent or shed): at a low
  // mirror_fraction a share of all live events would hide heavy shedding.
  if (w.shed > 0 && Share(w.shed, w.sent + w.shed) > max) {
    fail("the splitter shed " + Count(w.shed) + " of " + Count(w.sent + w.shed) +
         " candidate copies (" + Percent(Share(w.shed, w.sent + w.shed)) + ", limit " +
         Percent(max) + "): the candidate could not keep up with live traffic");
  }
  for (const auto& e : w.events) {
    const std::string ev = "event " + Quoted(e.event);
    if (e.sent == 0 && e.candidate > 0) {
      fail(ev + ": the candidate has " + Count(e.candidate) + " events, live sent it none");
    } else if (e.sent > 0) {
      double drift = (static_cast<double>(e.candidate) - e.sent) / e.sent;
      if (std::fabs(drift) > max)
        fail(ev + ": candidate " + Count(e.candidate) + " events, live sent it " + Count(e.sent) +
             " (drift " + Percent(drift) + ", limit " + Percent(max) + ")");
    }
    uint64_t one_sided = e.missing_in_candidate + e.missing_in_live;
    if (one_sided > 0 && Share(one_sided, e.sent) > max) {
      fail(ev + ": " + Count(e.missing_in_candidate) + " ids missing in the candidate" +
           (e.missing_in_candidate_ids.empty() ? ""
                                               : " (e.g. " + e.missing_in_candidate_ids[0] + ")") +
           ", " + Count(e.missing_in_live) + " missing in live" +
           (e.missing_in_live_ids.empty() ? "" : " (e.g. " + e.missing_in_live_ids[0] + ")") +
           " (" + Percent(Share(one_sided, e.sent)) + " of " + Count(e.sent) + " sent)");
    }
    if (e.mismatched > 0 && Share(e.mismatched, e.sent) > max) {
      fail(ev + ": " + Count(e.mismatched) +
           " events whose raw body differs between colors (e.g. " + e.mismatched_ids[0] + ")");
    }
  }
  for (const auto& v : w.deliveries) {
    const std::string who = "vendor " + Quoted(v.vendor) + ", event " + Quoted(v.event);
    uint64_t ids = v.both + v.only_live + v.only_candidate;
    if (v.only_live > 0 && Share(v.only_live, ids) > max) {
      fail(who + ": " + Count(v.only_live) + " of " + Count(ids) +
           " events have a delivery row in live but none in the candidate (e.g. " +
           v.only_live_ids[0] + ")");
    }
    if (v.only_candidate > 0 && Share(v.only_candidate, ids) > max) {
      fail(who + ": " + Count(v.only_candidate) + " of " + Count(ids) +
           " events have a delivery row in the candidate but none in live (e.g. " +
           v.only_candidate_ids[0] + ")");
    }
    if (v.payload_mismatched > 0 && Share(v.payload_mismatched, v.both) > max) {
      std::string fields;
      for (const auto& f : v.fields) {
        if (fields.size() > 200) break;
        fields += (fields.empty() ? "" : ", ") + f.field + " " + f.change;
      }
      fail(who + ": " + Count(v.payload_mismatched) + " of " + Count(v.both) + " payloads differ" +
           (fields.empty() ? std::string(v.payloads_recorded ? "" : " (payloads not recorded)")
                           : " (" + fields + ")"));
    }
    if (v.candidate_failed > v.live_failed &&
        Share(v.candidate_failed - v.live_failed, ids) > max) {
      fail(who + ": the candidate failed " + Count(v.candidate_failed) + " of " + Count(ids) +
           " deliveries, live " + Count(v.live_failed));
    }
  }
  if (!w.reasons.empty() && w.missing_unmarked > 0) {
    fail(Count(w.missing_unmarked) +
         " of the events missing in the candidate have no raw.mirror in live (its dispatcher "
         "is a release that does not record it): with mirror_fraction below 1 they may have "
         "been sampled out rather than lost; run live on a release that records raw.mirror");
  }
  w.pass = w.reasons.empty();
}

namespace {

std::string Windows(uint64_t n) { return Count(n) + " judged window" + (n == 1 ? "" : "s"); }

// The trailing run of passing windows is the pooled evidence: a failing window
// resets it, so a fixed candidate is not held to its old losses there (the
// per-event tests keep them until their windows age out).
void PooledEvidence(const CompareConfig& config, const std::vector<const WindowReport*>& judged,
                    Evidence& ev) {
  int64_t run_start = 0, run_end = 0;
  uint64_t received = 0;  // live's events in the run, sent or not
  for (auto it = judged.rbegin(); it != judged.rend() && (*it)->pass; ++it) {
    ++ev.windows;
    ev.sent_events += (*it)->sent;
    ev.lost += (*it)->missing_in_candidate;
    received += (*it)->live_count;
    run_start = (*it)->start_ms;
    if (run_end == 0) run_end = (*it)->end_ms;
  }
  ev.upper_bound = LossUpperBound(ev.lost, ev.sent_events);
  if (ev.sent_events > 0) {
    ev.sentence = "With 95% confidence the candidate drops fewer than " + Percent(ev.upper_bound) +
                  " of the events sent to it (" + Count(ev.lost) + " of " + Count(ev.sent_events) +
                  " missing over " + std::to_string(ev.windows) + " passing window" +
                  (ev.windows == 1 ? "" : "s") + ").";
  } else {
    ev.sentence =
        "No passing window holds any event sent to the candidate yet: nothing shows it loses "
        "nothing.";
  }
  ev.events_needed = EventsNeeded(ev.lost, ev.sent_events, config.max_drift_ratio);
  if (ev.events_needed && *ev.events_needed > ev.sent_events && run_end > run_start &&
      ev.sent_events > 0) {
    double rate = ev.sent_events / ((run_end - run_start) / 1000.0);
    ev.seconds_needed = (*ev.events_needed - ev.sent_events) / rate;
  }
  if (!ev.events_needed) {
    ev.needed = "a lower loss rate: at this one no number of events brings the 95% bound to " +
                Percent(config.max_drift_ratio);
  } else if (*ev.events_needed > ev.sent_events) {
    uint64_t more = *ev.events_needed - ev.sent_events;
    std::vector<std::string> notes;
    if (received > ev.sent_events && ev.sent_events > 0) {
      double share = static_cast<double>(ev.sent_events) / static_cast<double>(received);
      notes.push_back("about " + Count(static_cast<uint64_t>(std::ceil(more / share))) +
                      " live events, of which it is sent " + Percent(share));
    }
    if (ev.seconds_needed)
      notes.push_back("about " + Duration(*ev.seconds_needed) + " at the current rate");
    ev.needed = "about " + Count(more) + " more events sent to the candidate";
    for (size_t i = 0; i < notes.size(); ++i) ev.needed += (i == 0 ? " (" : "; ") + notes[i];
    if (!notes.empty()) ev.needed += ")";
    ev.needed += " for the 95% bound to reach " + Percent(config.max_drift_ratio);
  }
}

}  // namespace

void Decide(const CompareConfig& config, Report& r) {
  r.reasons.clear();
  r.evidence = Evidence{};
  r.max_drift_ratio = config.max_drift_ratio;
  r.windows_required = config.windows_required;
  r.min_events_per_window = config.min_events_per_window;
  r.window_seconds = config.window_seconds;
  r.settle_seconds = config.settle_seconds;
  const double max = config.max_drift_ratio;

  std::vector<const WindowReport*> judged;
  for (const auto& w : r.windows)
    if (w.state == WindowState::kJudged) judged.push_back(&w);
  Evidence& ev = r.evidence;
  PooledEvidence(config, judged, ev);
  ev.by_event = EventsEvidence(judged, max);

  if (!r.errors.empty()) {
    r.verdict = Verdict::kNotReady;
    ev.needed.clear();
    for (const auto& e : r.errors) r.reasons.push_back(e);
    return;
  }
  size_t need = config.windows_required;
  size_t from = judged.size() > need ? judged.size() - need : 0;
  for (size_t i = from; i < judged.size(); ++i) {
    const WindowReport& w = *judged[i];
    if (!w.pass) r.reasons.insert(r.reasons.end(), w.reasons.begin(), w.reasons.end());
  }
  // An event that loses significantly more than the limit fails the verdict,
  // whatever the pooled bound says: rare events cannot hide behind common ones.
  for (const EventEvidence& e : ev.by_event) {
    if (!e.above_limit) continue;
    char p[32];
    std::snprintf(p, sizeof p, "%.2g", e.p_value);
    r.reasons.push_back(
        "event " + Quoted(e.event) + ": " + Count(e.lost) + " of " + Count(e.sent) +
        " events sent to the candidate are missing in it over " + Windows(e.windows) + " (" +
        Percent(Share(e.lost, e.sent)) + ", limit " + Percent(max) +
        "); the exact one-sided binomial test puts its loss above the limit (p = " + p +
        " < 0.05)" + (e.example_id.empty() ? "" : ", e.g. " + e.example_id));
  }
  // At or above the limit, more events only confirm it: no amount of evidence
  // can make the bound pass.
  if (ev.lost > 0 && Share(ev.lost, ev.sent_events) >= max) {
    r.reasons.push_back("the candidate lost " + Count(ev.lost) + " of the " +
                        Count(ev.sent_events) + " events sent to it over the last " +
                        Windows(ev.windows) + " (" + Percent(Share(ev.lost, ev.sent_events)) +
                        "), at or above the " + Percent(max) +
                        " limit: at this rate no number of events brings the 95% bound within it");
  }
  if (!r.reasons.empty()) {
    r.verdict = Verdict::kNotReady;
    ev.needed.clear();
    return;
  }
  bool thin = false;
  for (size_t i = from; i < judged.size(); ++i) {
    const WindowReport& w = *judged[i];
    if (w.thin) {
      thin = true;
      r.reasons.push_back("window " + WindowName(w.start_ms, w.end_ms) + " holds " + Count(w.sent) +
                          " events sent to the candidate; each judged window needs " +
                          Count(config.min_events_per_window));
    }
  }
  if (judged.size() < need) {
    r.reasons.push_back(std::to_string(judged.size()) + " of the " + std::to_string(need) +
                        " consecutive passing windows needed have been judged");
    ev.needed = std::to_string(need - judged.size()) + " more judged window" +
                (need - judged.size() == 1 ? "" : "s") + " (about " +
                Duration(static_cast<double>(need - judged.size()) * config.window_seconds) + ")";
  }
  if (thin || judged.size() < need) {
    r.verdict = Verdict::kInsufficientData;
    if (thin && judged.size() >= need)
      ev.needed = "at least " + Count(config.min_events_per_window) +
                  " events sent to the candidate per window";
    return;
  }
  if (ev.upper_bound > max) {
    r.verdict = Verdict::kInsufficientData;
    r.reasons.push_back("not enough evidence yet: " + ev.sentence + " The limit is " +
                        Percent(max) + "; it needs " + ev.needed + ".");
    return;
  }
  ev.needed.clear();
  r.verdict = Verdict::kReady;
}

}  // namespace tandem::compare
