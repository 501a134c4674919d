#include "pipeline/trace/sentry_reporter.h"

#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <stdexcept>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/url.h"
#include "common/uuid7.h"
#include "pipeline/trace/scrubber.h"
#include "pipeline/trace/trace_metrics.h"

namespace tandem::trace {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// One report on the wire at a time, as Sentry's own SDKs do (one transport
// worker): a limit in the answer to one report then stops every report queued
// behind it, instead of racing the ones already sent. Bounded in count and in
// bytes (a report carries its event's scrubbed payload).
constexpr size_t kMaxQueued = 100;
constexpr size_t kMaxQueuedBytes = 8 << 20;
constexpr size_t kMaxBreadcrumbs = 20;
constexpr size_t kMaxBodyExcerpt = 2048;
constexpr auto kSendTimeout = std::chrono::seconds(5);
constexpr auto kDefaultLimit = std::chrono::seconds(60);

class SentryReporter : public ErrorReporter {
 public:
  SentryReporter(SentryDsn dsn, std::string dsn_text, Color color, boost::asio::io_context& io,
                 boost::asio::ssl::context* tls, const ScrubConfig& scrub, TraceMetrics& metrics)
      : dsn_(std::move(dsn)),
        dsn_text_(std::move(dsn_text)),
        url_(*Url::Parse(dsn_.envelope_url())),
        color_(color),
        io_(io),
        pool_(http::ClientPool::Create(io, http::Upstream::Of(url_, tls), {.max_connections = 1})),
        scrubber_(scrub),
        metrics_(metrics) {}

  void VendorAnswer(const std::string& vendor, const std::string& role, int status,
                    const std::string& body, const json& payload) override {
    std::string excerpt = body.substr(0, kMaxBodyExcerpt);
    ScrubCounts ignored{};
    scrubber_.ScrubString(excerpt, ignored);  // vendors echo what they were sent
    json data = payload;
    scrubber_.ScrubJson(data, ignored);
    std::string what = vendor + " answered " + std::to_string(status);
    json event = Event("VendorError", what);
    event["tags"] = {{"color", ColorName(color_)},
                     {"role", role},
                     {"vendor", vendor},
                     {"status", std::to_string(status)}};
    event["request"] = {
        {"method", "POST"},
        {"headers", {{"Content-Type", "application/json"}, {"User-Agent", "tandem-trace"}}},
        {"data", std::move(data)}};
    event["extra"] = {{"response_body", excerpt}};
    boost::asio::post(io_, [this, what, event = std::move(event)]() mutable {
      Breadcrumb("vendor", what);
      Send(std::move(event));
    });
  }

  void Error(const std::string& where, const std::string& what) override {
    std::string text = what;
    ScrubCounts ignored{};
    scrubber_.ScrubString(text, ignored);
    json event = Event("TraceError", where + ": " + text);
    event["tags"] = {{"color", ColorName(color_)}, {"where", where}};
    boost::asio::post(io_, [this, where, event = std::move(event)]() mutable {
      Breadcrumb("trace", where);
      Send(std::move(event));
    });
  }

 private:
  static json Event(const std::string& type, const std::string& value) {
    std::string id = NewUuid7().text;
    std::erase(id, '-');
    return {{"event_id", id},
            {"timestamp", static_cast<double>(UnixMillis()) / 1000.0},
            {"platform", "native"},
            {"level", "error"},
            {"logger", "tandem.trace"},
            {"message", {{"formatted", value}}},
            {"exception", {{"values", json::array({{{"type", type}, {"value", value}}})}}}};
  }

  // On the io thread.
  void Breadcrumb(const std::string& category, const std::string& message) {
    breadcrumbs_.push_back({{"timestamp", static_cast<double>(UnixMillis()) / 1000.0},
                            {"category", category},
                            {"message", message},
                            {"level", "error"}});
    if (breadcrumbs_.size() > kMaxBreadcrumbs) breadcrumbs_.pop_front();
  }

  // On the io thread. Sentry's rule: while a limit is active the event is dropped.
  void Send(json event) {
    if (Clock::now() < limited_until_ || queued_.size() >= kMaxQueued) {
      metrics_.sentry_dropped.Increment();
      return;
    }
    json crumbs = json::array();
    for (const auto& c : breadcrumbs_) crumbs.push_back(c);
    event["breadcrumbs"] = {{"values", std::move(crumbs)}};
    std::string envelope = Envelope(event);
    if (queued_bytes_ + envelope.size() > kMaxQueuedBytes) {
      metrics_.sentry_dropped.Increment();
      return;
    }
    queued_bytes_ += envelope.size();
    queued_.push_back(std::move(envelope));
    SendNext();
  }

  std::string Envelope(const json& event) const {
    std::string payload = event.dump(-1, ' ', false, json::error_handler_t::replace);
    json header = {{"event_id", event["event_id"]}, {"dsn", dsn_text_}, {"sent_at", RfcNow()}};
    json item = {{"type", "event"}, {"length", payload.size()}};
    return header.dump() + "\n" + item.dump() + "\n" + payload + "\n";
  }

  // On the io thread: the next queued report, once the one before it is answered
  // and while no limit is active.
  void SendNext() {
    while (!sending_ && !queued_.empty()) {
      std::string envelope = std::move(queued_.front());
      queued_.pop_front();
      queued_bytes_ -= envelope.size();
      if (Clock::now() < limited_until_) {
        metrics_.sentry_dropped.Increment();
        continue;
      }
      SendNow(std::move(envelope));
    }
  }

  void SendNow(std::string envelope) {
    http::Request req{http::Verb::post, url_.target, 11};
    req.set(http::Field::content_type, "application/x-sentry-envelope");
    req.set(http::Field::user_agent, "tandem/1.0");
    req.set("X-Sentry-Auth",
            "Sentry sentry_version=7, sentry_client=tandem/1.0, sentry_key=" + dsn_.public_key);
    req.body() = std::move(envelope);
    req.prepare_payload();
    sending_ = true;
    pool_->Send(std::move(req), kSendTimeout,
                [this](boost::system::error_code ec, http::Response&& res) {
                  sending_ = false;
                  if (ec) {
                    metrics_.sentry_dropped.Increment();
                  } else {
                    ApplyRateLimits(res);
                    if (res.result_int() == 200) {
                      metrics_.sentry_sent.Increment();
                    } else {
                      metrics_.sentry_dropped.Increment();
                      if (failures_++ % 100 == 0) {
                        log::Warn("sentry refused a report", {{"status", res.result_int()}});
                      }
                    }
                  }
                  SendNext();
                });
  }

  // X-Sentry-Rate-Limits: "retry_after:categories:scope:...", comma-separated. Trace
  // sends only error events: a limit counts when its categories are empty (all),
  // or name `error` or `default`.
  void ApplyRateLimits(const http::Response& res) {
    auto it = res.find("X-Sentry-Rate-Limits");
    auto now = Clock::now();
    if (it != res.end()) {
      std::string header(it->value());
      size_t start = 0;
      while (start <= header.size()) {
        size_t end = header.find(',', start);
        if (end == std::string::npos) end = header.size();
        std::string limit = header.substr(start, end - start);
        start = end + 1;
        size_t c1 = limit.find(':');
        if (c1 == std::string::npos) continue;
        size_t c2 = limit.find(':', c1 + 1);
        std::string categories =
            limit.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
        double secs = std::strtod(limit.c_str(), nullptr);
        if (secs <= 0) secs = 60;
        bool ours = categories.empty();
        size_t p = 0;
        while (!ours && p <= categories.size()) {
          size_t q = categories.find(';', p);
          if (q == std::string::npos) q = categories.size();
          std::string cat = categories.substr(p, q - p);
          ours = cat == "error" || cat == "default";
          p = q + 1;
        }
        if (!ours) continue;
        auto until = now + std::chrono::milliseconds(static_cast<int64_t>(secs * 1000));
        limited_until_ = std::max(limited_until_, until);
      }
      return;
    }
    if (res.result_int() == 429) {
      auto retry = res.find(http::Field::retry_after);
      double secs =
          retry == res.end() ? 0 : std::strtod(std::string(retry->value()).c_str(), nullptr);
      limited_until_ =
          std::max(limited_until_,
                   now + (secs > 0 ? std::chrono::milliseconds(static_cast<int64_t>(secs * 1000))
                                   : std::chrono::milliseconds(kDefaultLimit)));
    }
  }

  static std::string RfcNow() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

  SentryDsn dsn_;
  std::string dsn_text_;
  Url url_;
  Color color_;
  boost::asio::io_context& io_;
  std::shared_ptr<http::ClientPool> pool_;
  Scrubber scrubber_;
  TraceMetrics& metrics_;
  std::deque<json> breadcrumbs_;
  Clock::time_point limited_until_{};
  std::deque<std::string> queued_;  // envelopes waiting for the one on the wire
  size_t queued_bytes_ = 0;
  bool sending_ = false;
  uint64_t failures_ = 0;
};

}  // namespace

SentryDsn ParseSentryDsn(const std::string& dsn) {
  auto fail = [&](const std::string& why) {
    return std::runtime_error("Sentry DSN '" + dsn + "': " + why);
  };
  if (dsn.rfind("https://", 0) != 0)
    throw fail("must be an https:// URL (outgoing calls are HTTPS only)");
  std::string rest = dsn.substr(8);
  size_t at = rest.find('@');
  size_t slash = rest.find('/');
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) {
    throw fail("has no public key (https://KEY@HOST/PROJECT)");
  }
  SentryDsn d;
  d.public_key = rest.substr(0, rest.find_first_of(":@"));
  std::string host_and_path = rest.substr(at + 1);
  slash = host_and_path.find('/');
  if (slash == std::string::npos) throw fail("has no project id (https://KEY@HOST/PROJECT)");
  d.origin = "https://" + host_and_path.substr(0, slash);
  std::string path = host_and_path.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  size_t last = path.rfind('/');
  d.project = path.substr(last + 1);
  d.path = path.substr(0, last);
  if (d.public_key.empty() || d.project.empty() || !Url::Parse(d.envelope_url())) {
    throw fail("is not https://KEY@HOST[:PORT][/PATH]/PROJECT");
  }
  return d;
}

std::unique_ptr<ErrorReporter> MakeSentryReporter(const std::string& dsn_env, Color color,
                                                  boost::asio::io_context& io,
                                                  boost::asio::ssl::context* tls,
                                                  const ScrubConfig& scrub, TraceMetrics& metrics) {
  const char* v = dsn_env.empty() ? nullptr : std::getenv(dsn_env.c_str());
  if (!v || !*v) return nullptr;
  SentryDsn dsn = ParseSentryDsn(v);
  return std::make_unique<SentryReporter>(dsn, v, color, io, tls, scrub, metrics);
}

}  // namespace tandem::trace
