// Reports to Sentry as the seed's toucan-js did: every non-2xx vendor answer and
// every error trace catches becomes an event (tags color, role, vendor; the
// scrubbed payload as request data; recent breadcrumbs), sent as an envelope to
// https://HOST/api/PROJECT/envelope/ with X-Sentry-Auth. Honours Sentry's rate
// limits (X-Sentry-Rate-Limits on any answer; Retry-After, or 60 s, on a 429),
// never retries, and never blocks: one report on the wire at a time (as
// Sentry's SDKs send), at most 100 reports and 8 MiB waiting; beyond that a
// report is dropped and counted.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "common/color.h"
#include "common/config.h"
#include "pipeline/trace/error_reporter.h"

namespace boost::asio::ssl {
class context;
}

namespace tandem::trace {

class TraceMetrics;

struct SentryDsn {
  std::string public_key;
  std::string origin;  // https://host[:port]
  std::string path;    // any path before the project id, without a trailing "/"
  std::string project;
  std::string envelope_url() const { return origin + path + "/api/" + project + "/envelope/"; }
};

// Parses https://KEY@HOST[:PORT][/PATH]/PROJECT; throws std::runtime_error with a
// message naming the problem (http:// is refused: outgoing calls are HTTPS only).
SentryDsn ParseSentryDsn(const std::string& dsn);

// Off (nullptr) while the variable `dsn_env` names is unset or empty.
std::unique_ptr<ErrorReporter> MakeSentryReporter(const std::string& dsn_env, Color color,
                                                  boost::asio::io_context& io,
                                                  boost::asio::ssl::context* tls,
                                                  const ScrubConfig& scrub, TraceMetrics& metrics);

}  // namespace tandem::trace
