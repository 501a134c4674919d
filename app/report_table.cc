#include "app/report_table.h"

#include <ctime>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace tandem::app {
namespace {

using json = nlohmann::json;

uint64_t U(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number_unsigned() ? j[key].get<uint64_t>() : 0;
}

std::string S(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

void PrintReport(const json& r, std::ostream& out) {
  out << "verdict:    " << S(r, "verdict") << "\n";
  if (r.contains("evidence") && r["evidence"].is_object()) {
    const json& e = r["evidence"];
    if (!S(e, "sentence").empty()) out << "evidence:   " << S(e, "sentence") << "\n";
    if (!S(e, "needed").empty()) out << "needs:      " << S(e, "needed") << "\n";
  }
  if (r.contains("reasons") && r["reasons"].is_array() && !r["reasons"].empty()) {
    out << "reasons:\n";
    for (const auto& reason : r["reasons"])
      out << "  - " << (reason.is_string() ? reason.get<std::string>() : reason.dump()) << "\n";
  }
  if (!r.contains("windows") || !r["windows"].is_array() || r["windows"].empty()) return;
  out << "\n"
      << std::left << std::setw(20) << "window (UTC)" << std::right << std::setw(9) << "live"
      << std::setw(9) << "sent" << std::setw(9) << "sampled" << std::setw(7) << "shed"
      << std::setw(11) << "candidate" << std::setw(10) << "missing" << std::setw(10) << "extra"
      << std::setw(10) << "differ" << std::setw(10) << "payloads"
      << "  judged\n";
  for (const auto& w : r["windows"]) {
    uint64_t payloads = 0;
    if (w.contains("deliveries") && w["deliveries"].is_array())
      for (const auto& v : w["deliveries"]) payloads += U(v, "payload_mismatched");
    std::string state = "FAIL";
    if (S(w, "state") == "spans_swap") {
      state = "no (spans a promotion)";
    } else if (w.value("pass", false)) {
      state = w.value("thin", false) ? "pass (too few events)" : "pass";
    }
    int64_t start = w.value("start_ms", int64_t{0}), end = w.value("end_ms", int64_t{0});
    out << std::left << std::setw(20) << (UtcClock(start) + "-" + UtcClock(end)) << std::right
        << std::setw(9) << U(w, "live_count") << std::setw(9) << U(w, "sent") << std::setw(9)
        << U(w, "sampled_out") << std::setw(7) << U(w, "shed") << std::setw(11)
        << U(w, "candidate_count") << std::setw(10) << U(w, "missing_in_candidate") << std::setw(10)
        << U(w, "missing_in_live") << std::setw(10) << U(w, "mismatched") << std::setw(10)
        << payloads << "  " << state << "\n";
  }
  out << "(sent: live's events the candidate was sent; sampled: left out by mirror_fraction; "
         "shed: dropped because the candidate could not keep up; only sent events are judged)\n"
         "(missing: sent, not in the candidate; extra: in the candidate, not in live; differ: raw "
         "body; payloads: vendor payloads that differ)\n";
}

}  // namespace tandem::app
