#include "compare/report_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/clock.h"

namespace tandem::compare {
namespace {

// Everything on the page that came from data (event names, ids, payload values)
// goes through here: the page must not run what a client sent.
std::string Esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string Pct(double ratio) {
  return Fmt(std::fabs(ratio) >= 0.01 ? "%.2f%%" : "%.3f%%", ratio * 100);
}

double Drift(uint64_t live, uint64_t cand) {
  return live == 0 ? (cand == 0 ? 0.0 : 1.0) : (static_cast<double>(cand) - live) / live;
}

std::string Td(const std::string& s, const char* cls = "") {
  return std::string("<td") + (*cls ? std::string(" class=\"") + cls + "\"" : "") + ">" + s +
         "</td>";
}
std::string Td(uint64_t n) { return "<td class=\"n\">" + std::to_string(n) + "</td>"; }

std::string Ids(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += "<code>" + Esc(id) + "</code> ";
  return out;
}

// Drift of every window as bars around zero, with the threshold drawn: inline SVG.
std::string DriftChart(const Report& r) {
  const int w = 720, h = 160, mid = h / 2;
  double limit = std::max(r.max_drift_ratio, 1e-6);
  double scale = limit * 4;
  for (const auto& win : r.windows)
    scale = std::max(scale, std::fabs(Drift(win.sent, win.candidate_count)) * 1.2);
  std::string svg = "<svg id=\"drift\" viewBox=\"0 0 " + std::to_string(w) + " " +
                    std::to_string(h) + "\" width=\"" + std::to_string(w) + "\" height=\"" +
                    std::to_string(h) + "\" role=\"img\" aria-label=\"drift per window\">";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fafafa\"/>";
  auto y = [&](double v) { return mid - v / scale * (mid - 10); };
  svg += "<rect x=\"0\" y=\"" + Fmt("%.1f", y(limit)) + "\" width=\"" + std::to_string(w) +
         "\" height=\"" + Fmt("%.1f", y(-limit) - y(limit)) + "\" fill=\"#e3f4e3\"/>";
  svg += "<line x1=\"0\" x2=\"" + std::to_string(w) + "\" y1=\"" + std::to_string(mid) +
         "\" y2=\"" + std::to_string(mid) + "\" stroke=\"#999\"/>";
  size_t n = std::max<size_t>(r.windows.size(), 1);
  double bw = static_cast<double>(w) / n;
  for (size_t i = 0; i < r.windows.size(); ++i) {
    const auto& win = r.windows[i];
    double d = Drift(win.sent, win.candidate_count);
    double top = std::min(y(d), static_cast<double>(mid)), height = std::fabs(y(d) - mid);
    const char* color =
        win.state == WindowState::kSpansSwap ? "#bbb" : (win.pass ? "#2e7d32" : "#c62828");
    svg += "<rect class=\"bar\" x=\"" + Fmt("%.1f", i * bw + 1) + "\" y=\"" + Fmt("%.1f", top) +
           "\" width=\"" + Fmt("%.1f", std::max(bw - 2, 1.0)) + "\" height=\"" +
           Fmt("%.1f", std::max(height, 1.0)) + "\" fill=\"" + color + "\"><title>" +
           UtcClock(win.start_ms) + ": drift " + Pct(d) + "</title></rect>";
  }
  svg += "<text x=\"4\" y=\"12\" font-size=\"11\">+" + Pct(scale) + "</text><text x=\"4\" y=\"" +
         std::to_string(h - 4) + "\" font-size=\"11\">-" + Pct(scale) +
         "</text><text x=\"4\" y=\"" + std::to_string(mid - 3) +
         "\" font-size=\"11\" fill=\"#2e7d32\">limit &#177;" + Pct(limit) + "</text></svg>";
  return svg;
}

// What the candidate was sent over the windows shown: the verdict judges only that.
std::string Sample(const Report& r) {
  uint64_t live = 0, sent = 0, sampled_out = 0, shed = 0;
  for (const auto& w : r.windows) {
    if (w.state != WindowState::kJudged) continue;
    live += w.live_count;
    sent += w.sent;
    sampled_out += w.sampled_out;
    shed += w.shed;
  }
  if (live == 0) return "";
  return "<p id=\"sample\"><b>Sample:</b> the candidate was sent " + std::to_string(sent) +
         " of live's " + std::to_string(live) + " events in the judged windows (" +
         Pct(static_cast<double>(sent) / static_cast<double>(live)) + "); " +
         std::to_string(sampled_out) + " sampled out (mirror_fraction), " + std::to_string(shed) +
         " shed (the candidate could not keep up). Only events sent are judged.</p>";
}

std::string WindowDetail(const WindowReport& w) {
  std::string out = "<h2>Window " + UtcClock(w.start_ms) + "&ndash;" + UtcClock(w.end_ms) +
                    " UTC, by event</h2><table id=\"events\"><tr><th>event</th><th>live</th>"
                    "<th>sent to the candidate</th><th>candidate</th><th>drift</th>"
                    "<th>missing in candidate</th>"
                    "<th>missing in live</th><th>body differs</th><th>example ids</th></tr>";
  for (const auto& e : w.events) {
    out +=
        "<tr>" + Td(Esc(e.event)) + Td(e.live) + Td(e.sent) + Td(e.candidate) +
        Td(Pct(Drift(e.sent, e.candidate)), "n") + Td(e.missing_in_candidate) +
        Td(e.missing_in_live) + Td(e.mismatched) +
        Td(Ids(e.missing_in_candidate_ids) + Ids(e.missing_in_live_ids) + Ids(e.mismatched_ids)) +
        "</tr>";
  }
  out +=
      "</table><h2>Vendors</h2><table id=\"vendors\"><tr><th>vendor</th><th>event</th>"
      "<th>live delivered</th><th>candidate delivered</th><th>live failed</th>"
      "<th>candidate failed</th><th>only live</th><th>only candidate</th>"
      "<th>payloads differ</th></tr>";
  std::string fields;
  for (const auto& v : w.deliveries) {
    out += "<tr>" + Td(Esc(v.vendor)) + Td(Esc(v.event)) + Td(v.live_delivered) +
           Td(v.candidate_delivered) + Td(v.live_failed) + Td(v.candidate_failed) +
           Td(v.only_live) + Td(v.only_candidate) + Td(v.payload_mismatched) + "</tr>";
    for (const auto& f : v.fields) {
      fields += "<tr>" + Td(Esc(v.vendor)) + Td(Esc(v.event)) +
                Td("<code>" + Esc(f.field) + "</code>") + Td(Esc(f.change), f.change.c_str()) +
                Td("<code>" + Esc(f.live) + "</code>") +
                Td("<code>" + Esc(f.candidate) + "</code>") + Td(f.count) +
                Td("<code>" + Esc(f.tandem_id) + "</code>") + "</tr>";
    }
  }
  out += "</table>";
  if (!fields.empty()) {
    out +=
        "<h2>Payload fields that differ</h2><table id=\"fields\"><tr><th>vendor</th>"
        "<th>event</th><th>field</th><th>change</th><th>live</th><th>candidate</th>"
        "<th>sampled</th><th>example</th></tr>" +
        fields + "</table>";
  }
  return out;
}

}  // namespace

std::string RenderReportPage(const Report* report) {
  std::string out =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"10\"><title>Tandem compare</title><style>"
      "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}"
      "h1{margin:0 0 8px}.verdict{padding:2px 10px;border-radius:4px;color:#fff}"
      ".ready{background:#2e7d32}.not_ready{background:#c62828}"
      ".insufficient_data,.starting{background:#f9a825;color:#222}"
      "table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:3px "
      "8px;"
      "text-align:left;vertical-align:top}td.n{text-align:right}th{background:#f3f3f3}"
      "tr.FAIL td{background:#fdecea}code{font-size:12px}.removed{color:#c62828}"
      ".added{color:#1565c0}.changed{color:#ef6c00}.muted{color:#777}"
      "</style></head><body>";
  if (!report) {
    return out +
           "<h1>Tandem compare <span id=\"verdict\" class=\"verdict starting\">starting</span>"
           "</h1><p>No report yet: the first run has not finished.</p></body></html>";
  }
  const Report& r = *report;
  std::string verdict = VerdictName(r.verdict);
  out += "<h1>Tandem compare <span id=\"verdict\" class=\"verdict " + verdict + "\">" + verdict +
         "</span></h1><p>live <b id=\"live\">" + Esc(r.live.empty() ? "unknown" : r.live) +
         "</b>, candidate <b id=\"candidate\">" +
         Esc(r.candidate.empty() ? "unknown" : r.candidate) + "</b>; report of " +
         UtcClock(r.generated_at_ms) + " UTC, refreshes every 10 s.</p>";
  out += "<p id=\"evidence\">" + Esc(r.evidence.sentence) + "</p>";
  if (!r.evidence.needed.empty())
    out += "<p id=\"needed\"><b>Still needed:</b> " + Esc(r.evidence.needed) + ".</p>";
  if (!r.reasons.empty()) {
    out += "<ul id=\"reasons\">";
    for (const auto& reason : r.reasons) out += "<li>" + Esc(reason) + "</li>";
    out += "</ul>";
  }
  out += "<p class=\"muted\">windows of " + std::to_string(r.window_seconds) + " s, judged " +
         std::to_string(r.settle_seconds) + " s after they close; limit " + Pct(r.max_drift_ratio) +
         "; " + std::to_string(r.windows_required) + " passing windows of at least " +
         std::to_string(r.min_events_per_window) + " events needed.</p>";
  if (r.windows.empty()) return out + "<p>No window judged yet.</p></body></html>";
  out += Sample(r);
  out += "<h2>Drift per window</h2>" + DriftChart(r);
  out +=
      "<table id=\"windows\"><tr><th>window (UTC)</th><th>live</th><th>sent</th>"
      "<th>sampled out</th><th>shed</th><th>candidate</th>"
      "<th>missing in candidate</th><th>missing in live</th><th>body differs</th>"
      "<th>payloads differ</th><th>judged</th></tr>";
  const WindowReport* latest = nullptr;  // the detail: the latest failing window, else the latest
  for (const auto& w : r.windows) {
    uint64_t payloads = 0;
    for (const auto& v : w.deliveries) payloads += v.payload_mismatched;
    std::string state = w.state == WindowState::kSpansSwap ? "spans a promotion"
                        : !w.pass                          ? "FAIL"
                        : w.thin                           ? "pass (too few events)"
                                                           : "pass";
    if (w.state == WindowState::kJudged && (!w.pass || !latest || latest->pass)) latest = &w;
    out += "<tr class=\"" + std::string(state == "FAIL" ? "FAIL" : "") + "\">" +
           Td(UtcClock(w.start_ms) + "&ndash;" + UtcClock(w.end_ms)) + Td(w.live_count) +
           Td(w.sent) + Td(w.sampled_out) + Td(w.shed) + Td(w.candidate_count) +
           Td(w.missing_in_candidate) + Td(w.missing_in_live) + Td(w.mismatched) + Td(payloads) +
           Td(state) + "</tr>";
  }
  out += "</table>";
  if (latest) out += WindowDetail(*latest);
  return out + "</body></html>";
}

}  // namespace tandem::compare
