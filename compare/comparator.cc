#include "compare/comparator.h"

#include <algorithm>
#include <future>

#include "common/log.h"
#include "compare/verdict.h"
#include "compare/window_diff.h"
#include "compare/window_reader.h"

namespace tandem::compare {
namespace {

int64_t Floor(int64_t t, int64_t w) { return t >= 0 ? t / w * w : (t - w + 1) / w * w; }

// When a window with one-sided ids is read again: this many settle_seconds
// after its previous reading (read as it settles, that is 2 and 10 settle
// periods after it closed). The latest reading stands; rows later than the last
// count as missing. Three readings at most bound the cost of a lossy
// candidate's windows.
constexpr int64_t kRereadAfter[] = {1, 8};

bool OneSided(const WindowReport& w) {
  if (w.missing_in_candidate > 0 || w.missing_in_live > 0) return true;
  for (const auto& v : w.deliveries)
    if (v.only_live > 0 || v.only_candidate > 0) return true;
  return false;
}

}  // namespace

Comparator::Comparator(const Config& config, DatasetOpener open)
    : config_(config.compare), open_(std::move(open)) {}

Comparator::~Comparator() = default;

Dataset* Comparator::Open(Color c, std::vector<std::string>& errors) {
  auto& d = datasets_[Index(c)];
  if (d) return d.get();
  try {
    d = open_(c);
  } catch (const std::exception& e) {
    errors.push_back(std::string("the ") + ColorName(c) + " dataset cannot be opened: " + e.what());
    return nullptr;
  }
  // A dataset an older release made: SQLite gains the columns compare reads;
  // BigQuery's answer says what to run. Opened again on the next run.
  if (Status s = d->CheckSchema(); !s.ok()) {
    errors.push_back(std::string("the ") + ColorName(c) +
                     " dataset cannot be judged: " + s.message());
    d.reset();
  }
  return d.get();
}

bool Comparator::JudgeWindow(int64_t start, Color live, std::vector<std::string>& errors) {
  const int64_t end = start + int64_t{config_.window_seconds} * 1000;
  Dataset* l = Open(live, errors);
  Dataset* c = Open(Other(live), errors);
  if (!l || !c) return false;
  Fingerprint fp = l->dialect() == c->dialect() ? Fingerprint::kHash : Fingerprint::kLength;
  ColorWindow& lw = windows_[0];
  ColorWindow& cw = windows_[1];
  // The two colors' datasets are independent: read them side by side.
  auto cand = std::async(std::launch::async, [&] { return ReadWindow(*c, start, end, fp, cw); });
  Status ls = ReadWindow(*l, start, end, fp, lw);
  Status cs = cand.get();
  for (auto [status, color] : {std::pair{ls, live}, std::pair{cs, Other(live)}}) {
    if (!status.ok())
      errors.push_back(std::string("the ") + ColorName(color) + " dataset cannot be read (window " +
                       WindowName(start, end) + "): " + status.message());
  }
  if (!ls.ok() || !cs.ok()) return false;
  WindowDiff diff = DiffWindow(lw, cw);
  diff.report.start_ms = start;
  diff.report.end_ms = end;
  if (!diff.payload_samples.empty()) {
    std::vector<std::pair<PayloadKey, std::string>> lp, cp;
    Status a = ReadPayloads(*l, diff.payload_samples, lp);
    Status b = ReadPayloads(*c, diff.payload_samples, cp);
    // The counts stand without the examples; say why they are missing.
    if (!a.ok() || !b.ok())
      log::Warn("payload examples could not be read",
                {{"error", (!a.ok() ? a : b).message()}, {"window_start_ms", start}});
    AddPayloadFields(lp, cp, diff.report);
  }
  compare::JudgeWindow(config_, diff.report);
  judged_[start] = std::move(diff.report);
  ++reads_[start].count;
  return true;
}

Report Comparator::Run(int64_t now_ms, const std::optional<LiveState>& state, RunStats* stats,
                       const std::string& why) {
  Report r;
  r.generated_at_ms = now_ms;
  const int64_t w = int64_t{config_.window_seconds} * 1000;
  const int64_t settle = int64_t{config_.settle_seconds} * 1000;
  if (!state) {
    r.errors.push_back("the live color is unknown, so no window can be judged" +
                       (why.empty() ? std::string() : ": " + why));
    Decide(config_, r);
    return r;
  }
  if (state_ != state) {  // a promotion or rollback: earlier windows judged another candidate
    judged_.clear();
    reads_.clear();
    first_data_ms_.reset();
    state_ = state;
  }
  r.live = ColorName(state->live);
  r.candidate = ColorName(Other(state->live));
  r.state_changed_at_ms = state->changed_at_ms;

  // Windows that have closed and settled: [first, last_end).
  const int64_t last_end = Floor(now_ms - settle, w);
  int64_t first = last_end - int64_t{config_.history_windows} * w;
  std::optional<int64_t> spanning;
  if (state->changed_at_ms > 0 && Floor(state->changed_at_ms, w) >= first) {
    spanning = Floor(state->changed_at_ms, w);
    first = *spanning + w;
  }
  // Skip the empty stretch before the first event (once per live state).
  if (!first_data_ms_ && judged_.empty()) {
    int64_t earliest = -1;
    for (Color c : {Color::kBlue, Color::kGreen}) {
      Dataset* d = Open(c, r.errors);
      int64_t at = -1;
      if (!d) continue;
      if (Status s = FirstReceivedAt(*d, first, at); !s.ok()) {
        r.errors.push_back(std::string("the ") + ColorName(c) +
                           " dataset cannot be read: " + s.message());
      } else if (at >= 0 && (earliest < 0 || at < earliest)) {
        earliest = at;
      }
    }
    // Only a settled window fixes where the data starts: rows of a younger one
    // may still be on their way, and older ones would then have been missed.
    if (r.errors.empty() && earliest >= 0 && earliest < last_end)
      first_data_ms_ = Floor(earliest, w);
  }
  if (first_data_ms_ && *first_data_ms_ > first) first = *first_data_ms_;

  if (r.errors.empty() && first_data_ms_) {
    for (int64_t s = first; s + w <= last_end; s += w) {
      if (judged_.count(s)) continue;
      if (!JudgeWindow(s, state->live, r.errors)) break;  // retried on the next run, in order
      reads_[s].last_ms = now_ms;
      if (stats) ++stats->windows_judged;
    }
  }
  // Windows with one-sided ids, read again once rows later than settle_seconds
  // have had time to land (a loader or streaming buffer behind for a while).
  if (r.errors.empty()) {
    for (auto& [s, window] : judged_) {
      Reads& reads = reads_[s];
      if (reads.count > static_cast<int>(std::size(kRereadAfter)) || !OneSided(window)) continue;
      if (now_ms < reads.last_ms + kRereadAfter[reads.count - 1] * std::max<int64_t>(settle, 1000))
        continue;
      if (!JudgeWindow(s, state->live, r.errors)) break;
      reads.last_ms = now_ms;
      if (stats) ++stats->windows_judged;
    }
  }
  if (stats && !r.errors.empty()) ++stats->queries_failed;
  while (!judged_.empty() && judged_.begin()->first < first) {
    reads_.erase(judged_.begin()->first);
    judged_.erase(judged_.begin());
  }

  if (spanning && *spanning + w <= last_end) {
    WindowReport span;
    span.start_ms = *spanning;
    span.end_ms = *spanning + w;
    span.state = WindowState::kSpansSwap;
    span.pass = false;
    span.reasons.push_back("window " + WindowName(span.start_ms, span.end_ms) +
                           " spans a promotion or rollback: not judged");
    r.windows.push_back(std::move(span));
  }
  for (const auto& [start, window] : judged_) r.windows.push_back(window);
  r.next_judged_at_ms = last_end + w + settle;
  Decide(config_, r);
  if (r.errors.empty() && !first_data_ms_ && r.verdict == Verdict::kInsufficientData) {
    r.reasons.insert(r.reasons.begin(),
                     "no events in either dataset in a settled window since the live color "
                     "last changed");
  }
  return r;
}

}  // namespace tandem::compare
