#include "compare/verdict.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/clock.h"
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
  w.thin = w.live_count < config.min_events_per_window;
  auto fail = [&](std::string why) { w.reasons.push_back(name + ", " + why); };
  for (const auto& e : w.events) {
    const std::string ev = "event " + Quoted(e.event);
    if (e.live == 0 && e.candidate > 0) {
      fail(ev + ": the candidate has " + Count(e.candidate) + " events, live none");
    } else if (e.live > 0) {
      double drift = (static_cast<double>(e.candidate) - e.live) / e.live;
      if (std::fabs(drift) > max)
        fail(ev + ": candidate " + Count(e.candidate) + " events, live " + Count(e.live) +
             " (drift " + Percent(drift) + ", limit " + Percent(max) + ")");
    }
    uint64_t one_sided = e.missing_in_candidate + e.missing_in_live;
    if (one_sided > 0 && Share(one_sided, e.live) > max) {
      fail(ev + ": " + Count(e.missing_in_candidate) + " ids missing in the candidate" +
           (e.missing_in_candidate_ids.empty() ? ""
                                               : " (e.g. " + e.missing_in_candidate_ids[0] + ")") +
           ", " + Count(e.missing_in_live) + " missing in live" +
           (e.missing_in_live_ids.empty() ? "" : " (e.g. " + e.missing_in_live_ids[0] + ")") +
           " (" + Percent(Share(one_sided, e.live)) + " of " + Count(e.live) + ")");
    }
    if (e.mismatched > 0 && Share(e.mismatched, e.live) > max) {
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
  w.pass = w.reasons.empty();
}

void Decide(const CompareConfig& config, Report& r) {
  r.reasons.clear();
  r.evidence = Evidence{};
  r.max_drift_ratio = config.max_drift_ratio;
  r.windows_required = config.windows_required;
  r.min_events_per_window = config.min_events_per_window;
  r.window_seconds = config.window_seconds;
  r.settle_seconds = config.settle_seconds;

  std::vector<const WindowReport*> judged;
  for (const auto& w : r.windows)
    if (w.state == WindowState::kJudged) judged.push_back(&w);

  // The trailing run of passing windows is the evidence; a failure resets it.
  Evidence& ev = r.evidence;
  int64_t run_start = 0, run_end = 0;
  for (auto it = judged.rbegin(); it != judged.rend() && (*it)->pass; ++it) {
    ++ev.windows;
    ev.live_events += (*it)->live_count;
    ev.lost += (*it)->missing_in_candidate;
    run_start = (*it)->start_ms;
    if (run_end == 0) run_end = (*it)->end_ms;
  }
  ev.upper_bound = LossUpperBound(ev.lost, ev.live_events);
  if (ev.live_events > 0) {
    char bound[96];
    std::snprintf(bound, sizeof bound, "%s", Percent(ev.upper_bound).c_str());
    ev.sentence = "With 95% confidence the candidate drops fewer than " + std::string(bound) +
                  " of events (" + Count(ev.lost) + " of " + Count(ev.live_events) +
                  " live events missing over " + std::to_string(ev.windows) + " passing window" +
                  (ev.windows == 1 ? "" : "s") + ").";
  } else {
    ev.sentence =
        "No passing window holds any event yet: nothing shows the candidate loses nothing.";
  }
  ev.events_needed = EventsNeeded(ev.lost, ev.live_events, config.max_drift_ratio);
  if (ev.events_needed && *ev.events_needed > ev.live_events && run_end > run_start &&
      ev.live_events > 0) {
    double rate = ev.live_events / ((run_end - run_start) / 1000.0);
    ev.seconds_needed = (*ev.events_needed - ev.live_events) / rate;
  }

  if (!r.errors.empty()) {
    r.verdict = Verdict::kNotReady;
    for (const auto& e : r.errors) r.reasons.push_back(e);
    return;
  }
  size_t need = config.windows_required;
  size_t from = judged.size() > need ? judged.size() - need : 0;
  bool failing = false, thin = false;
  for (size_t i = from; i < judged.size(); ++i) {
    const WindowReport& w = *judged[i];
    if (!w.pass) {
      failing = true;
      r.reasons.insert(r.reasons.end(), w.reasons.begin(), w.reasons.end());
    }
  }
  if (failing) {
    r.verdict = Verdict::kNotReady;
    return;
  }
  for (size_t i = from; i < judged.size(); ++i) {
    const WindowReport& w = *judged[i];
    if (w.thin) {
      thin = true;
      r.reasons.push_back("window " + WindowName(w.start_ms, w.end_ms) + " holds " +
                          Count(w.live_count) + " live events; each judged window needs " +
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
    if (ev.needed.empty())
      ev.needed = "at least " + Count(config.min_events_per_window) + " live events per window";
    return;
  }
  if (ev.upper_bound > config.max_drift_ratio) {
    r.verdict = Verdict::kInsufficientData;
    std::string more;
    if (ev.events_needed) {
      more = "about " + Count(*ev.events_needed - std::min(*ev.events_needed, ev.live_events)) +
             " more live events";
      if (ev.seconds_needed)
        more += " (about " + Duration(*ev.seconds_needed) + " at the current rate)";
    } else {
      more = "a lower loss rate";
    }
    ev.needed = more + " for the 95% bound to reach " + Percent(config.max_drift_ratio);
    r.reasons.push_back("not enough evidence yet: " + ev.sentence + " The limit is " +
                        Percent(config.max_drift_ratio) + "; it needs " + ev.needed + ".");
    return;
  }
  r.verdict = Verdict::kReady;
}

}  // namespace tandem::compare
