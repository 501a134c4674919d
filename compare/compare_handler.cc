#include "compare/compare_handler.h"

#include "compare/report_page.h"

namespace tandem::compare {

void CompareHandler::Handle(http::Request&& req, const http::RequestInfo&, http::Respond respond) {
  std::string_view path = req.target().substr(0, req.target().find('?'));
  if (req.method() != http::Verb::get) {
    auto res = http::JsonError(http::Status::method_not_allowed, "use GET");
    res.set(http::Field::allow, "GET");
    return respond(std::move(res));
  }
  auto latest = board_.Latest();
  if (path == "/healthz")
    return respond(http::MakeResponse(http::Status::ok, R"({"status":"ok"})"));
  if (path == "/readyz") {
    return respond(latest ? http::MakeResponse(http::Status::ok, R"({"status":"ok"})")
                          : http::JsonError(http::Status::service_unavailable,
                                            "no report yet: the first run has not finished"));
  }
  if (path == "/metrics") {
    return respond(
        http::MakeResponse(http::Status::ok, metrics_.Serialize(), "text/plain; version=0.0.4"));
  }
  if (path == "/v1/report") {
    if (!latest) {
      // Fail closed: no report yet is never a verdict anyone could promote on.
      return respond(http::JsonError(http::Status::service_unavailable,
                                     "no report yet: the first run has not finished"));
    }
    auto res = http::MakeResponse(http::Status::ok, latest->json);
    res.set(http::Field::cache_control, "no-store");
    return respond(std::move(res));
  }
  if (path == "/") {
    auto res =
        http::MakeResponse(http::Status::ok, RenderReportPage(latest ? &latest->report : nullptr),
                           "text/html; charset=utf-8");
    res.set(http::Field::cache_control, "no-store");
    res.set("Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'");
    return respond(std::move(res));
  }
  return respond(http::JsonError(http::Status::not_found, "no such endpoint"));
}

}  // namespace tandem::compare
