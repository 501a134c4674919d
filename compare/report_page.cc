#include "compare/report_page.h"

namespace tandem::compare {

// A first, plain page; the full one (inline SVG drift, tables) comes next.
std::string RenderReportPage(const Report* report) {
  std::string verdict = report ? VerdictName(report->verdict) : "starting";
  return "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" "
         "content=\"5\"><title>Tandem compare</title></head><body><h1 id=\"verdict\">" +
         verdict + "</h1></body></html>";
}

}  // namespace tandem::compare
