#include "pipeline/trace/http_tracker.h"

#include <algorithm>
#include <ctime>

#include "common/backoff.h"
#include "common/log.h"
#include "pipeline/trace/error_reporter.h"
#include "pipeline/trace/trace_metrics.h"

namespace tandem::trace {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kMaxRetryAfter{3600 * 1000};
// Concurrent requests per vendor target; more wait for a connection, in order.
constexpr size_t kMaxConnections = 16;

}  // namespace

std::optional<std::chrono::milliseconds> RetryAfter(const http::Response& res) {
  auto it = res.find(http::Field::retry_after);
  if (it == res.end()) return std::nullopt;
  std::string v(it->value());
  if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos && v.size() < 10) {
    return std::min(kMaxRetryAfter, std::chrono::milliseconds(std::stoll(v) * 1000));
  }
  std::tm tm{};
  if (strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
    auto delta = std::chrono::seconds(timegm(&tm) - std::time(nullptr));
    return std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(delta),
                      std::chrono::milliseconds(0), kMaxRetryAfter);
  }
  return std::nullopt;
}

struct HttpTracker::Channel {
  Channel(boost::asio::io_context& io, Target t, Url u, boost::asio::ssl::context* tls)
      : target(t),
        url(std::move(u)),
        pool(http::ClientPool::Create(io, http::Upstream::Of(url, tls),
                                      {.max_connections = kMaxConnections})),
        linger(io) {}
  Target target;
  Url url;
  std::shared_ptr<http::ClientPool> pool;
  LingerTimer linger;
  std::deque<Item> queue;
};

HttpTracker::HttpTracker(const TrackerConfig& config, TrackerDeps deps, size_t vendor_max_batch)
    : Tracker(config, deps),
      batch_max_(config.batch_max == 0 ? vendor_max_batch
                                       : std::min<size_t>(config.batch_max, vendor_max_batch)) {
  auto add = [&](Target t) {
    auto url = Url::Parse(settings(t).endpoint);
    if (!url || !url->tls) {
      throw std::runtime_error("tracker '" + config.name + "': endpoint must be an https:// URL");
    }
    channels_[t] = std::make_unique<Channel>(deps.io, t, *url, deps.tls);
  };
  add(Target::kLive);
  if (config.candidate_mode == "staging") add(Target::kStaging);
  if (config.candidate_mode == "validate") add(Target::kValidate);
}

HttpTracker::~HttpTracker() = default;

void HttpTracker::Send(Target target, PayloadPtr payload, DeliveryDone done) {
  Item item;
  item.payload = std::move(payload);
  item.done = std::move(done);
  item.deadline = Clock::now() + kDeliveryDeadline;
  Enqueue(*channels_.at(target), std::move(item));
}

void HttpTracker::Enqueue(Channel& ch, Item item) {
  ch.queue.push_back(std::move(item));
  if (ch.queue.size() >= batch_max_) return Flush(ch);
  ch.linger.Arm(std::chrono::milliseconds(config_.linger_ms), [this, &ch] { Flush(ch); });
}

void HttpTracker::Flush(Channel& ch) {
  ch.linger.Disarm();
  // Group by key in arrival order, then cut each group into requests.
  std::vector<std::string> order;
  std::map<std::string, std::vector<Item>> groups;
  for (auto& item : ch.queue) {
    std::string key = BatchKey(item.payload->body);
    auto& g = groups[key];
    if (g.empty()) order.push_back(key);
    g.push_back(std::move(item));
  }
  ch.queue.clear();
  for (const auto& key : order) {
    auto& g = groups[key];
    for (size_t i = 0; i < g.size(); i += batch_max_) {
      size_t end = std::min(g.size(), i + batch_max_);
      SendBatch(ch, std::vector<Item>(std::make_move_iterator(g.begin() + i),
                                      std::make_move_iterator(g.begin() + end)));
    }
  }
}

void HttpTracker::SendBatch(Channel& ch, std::vector<Item> batch) {
  std::vector<const nlohmann::json*> bodies;
  for (auto& item : batch) {
    bodies.push_back(&item.payload->body);
    if (item.attempts++ > 0) deps_.metrics.vendor(name()).retries->Increment();
  }
  http::Request req = BuildRequest(ch.target, ch.url, bodies);
  req.prepare_payload();
  auto timeout = std::chrono::milliseconds(config_.timeout_ms);
  // Never past the earliest deadline in the batch (at least 100 ms).
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::min_element(batch.begin(), batch.end(),
                       [](const Item& a, const Item& b) { return a.deadline < b.deadline; })
          ->deadline -
      Clock::now());
  timeout = std::clamp(left, std::chrono::milliseconds(100), timeout);
  auto started = Clock::now();
  auto shared = std::make_shared<std::vector<Item>>(std::move(batch));
  ch.pool->Send(std::move(req), timeout,
                [this, &ch, shared, started](boost::system::error_code ec, http::Response&& res) {
                  OnAnswer(ch, std::move(*shared), ec, std::move(res), started);
                });
}

BatchVerdict HttpTracker::Judge(Target, const http::Response& res,
                                const std::vector<const nlohmann::json*>& batch) const {
  const size_t n = batch.size();
  BatchVerdict v;
  unsigned code = res.result_int();
  BatchVerdict::Fate fate = BatchVerdict::kFailed;
  if (code >= 200 && code < 300) fate = BatchVerdict::kDelivered;
  if (code == 408 || code == 429 || code >= 500) fate = BatchVerdict::kRetry;
  if (code == 413) v.split = true;
  v.fates.assign(n, fate);
  return v;
}

void HttpTracker::OnAnswer(Channel& ch, std::vector<Item> batch, boost::system::error_code ec,
                           http::Response&& res, Clock::time_point started) {
  VendorMetrics& vm = deps_.metrics.vendor(name());
  vm.latency->Observe(std::chrono::duration<double>(Clock::now() - started).count());
  const int code = ec ? 0 : static_cast<int>(res.result_int());
  const std::string why = ec ? ec.message() : "status " + std::to_string(code);
  (code >= 200 && code < 300 ? vm.requests_ok : vm.requests_failed)->Increment();
  if (!ec && (code < 200 || code >= 300) && deps_.reporter) {
    deps_.reporter->VendorAnswer(name(), ch.target == Target::kLive ? "live" : "candidate", code,
                                 res.body(), batch.front().payload->body);
  }
  BatchVerdict v;
  if (ec) {
    v.fates.assign(batch.size(), BatchVerdict::kRetry);
  } else {
    std::vector<const nlohmann::json*> bodies;
    for (const auto& item : batch) bodies.push_back(&item.payload->body);
    v = Judge(ch.target, res, bodies);
  }
  if (v.split && batch.size() > 1) {
    size_t half = batch.size() / 2;
    std::vector<Item> second(std::make_move_iterator(batch.begin() + half),
                             std::make_move_iterator(batch.end()));
    batch.resize(half);
    SendBatch(ch, std::move(batch));
    return SendBatch(ch, std::move(second));
  }
  if (v.split) v.fates.assign(batch.size(), BatchVerdict::kFailed);  // one event too large
  auto retry_after = ec ? std::nullopt : RetryAfter(res);
  std::vector<Item> now, later;
  for (size_t i = 0; i < batch.size(); ++i) {
    Item& item = batch[i];
    item.last_status = code;
    item.last_error = i < v.errors.size() && !v.errors[i].empty() ? v.errors[i] : why;
    switch (i < v.fates.size() ? v.fates[i] : BatchVerdict::kFailed) {
      case BatchVerdict::kDelivered:
        Finish(item, "delivered");
        break;
      case BatchVerdict::kRejected:
        Finish(item, "rejected");
        break;
      case BatchVerdict::kFailed:
        Finish(item, "failed");
        break;
      case BatchVerdict::kRetry:
        if (item.attempts >= static_cast<int>(config_.max_attempts)) {
          Finish(item, "failed");
        } else if (i < v.throttled.size() && v.throttled[i]) {
          later.push_back(std::move(item));
        } else {
          now.push_back(std::move(item));
        }
        break;
    }
  }
  // A throttled event waits the vendor's delay; everything else retried waits
  // the backoff (or Retry-After, when the vendor gave one).
  auto backoff = retry_after.value_or(Backoff(now.empty() ? 0 : now.front().attempts - 1));
  // Events resent because others of their batch were not (a 400 naming some
  // events, a 429 naming some devices) go again at once.
  bool partial = std::any_of(v.fates.begin(), v.fates.end(),
                             [](auto f) { return f != BatchVerdict::kRetry; }) ||
                 std::find(v.throttled.begin(), v.throttled.end(), true) != v.throttled.end();
  if (!now.empty())
    RetryLater(ch, std::move(now), partial ? std::chrono::milliseconds(0) : backoff);
  if (!later.empty()) RetryLater(ch, std::move(later), v.throttle_delay.value_or(backoff));
}

void HttpTracker::RetryLater(Channel& ch, std::vector<Item> items,
                             std::chrono::milliseconds delay) {
  auto at = Clock::now() + delay;
  std::vector<Item> keep;
  for (auto& item : items) {
    // A retry past the event's deadline would make the forwarder resend it:
    // record the failure now (backfill re-delivers it later).
    if (at > item.deadline) {
      item.last_error += " (retry budget spent)";
      Finish(item, "failed");
    } else {
      keep.push_back(std::move(item));
    }
  }
  if (keep.empty()) return;
  auto timer = std::make_shared<boost::asio::steady_timer>(deps_.io, delay);
  auto shared = std::make_shared<std::vector<Item>>(std::move(keep));
  timer->async_wait([this, &ch, timer, shared](boost::system::error_code) {
    for (auto& item : *shared) Enqueue(ch, std::move(item));
  });
}

void HttpTracker::Finish(Item& item, std::string outcome) {
  deps_.metrics.vendor(name()).deliveries.at(outcome)->Increment();
  if (outcome == "failed" && failures_logged_++ % 100 == 0) {
    log::Warn("vendor delivery failed", {{"vendor", name()},
                                         {"id", item.payload->tandem_id},
                                         {"status", item.last_status},
                                         {"attempts", item.attempts},
                                         {"error", item.last_error},
                                         {"failed_so_far", failures_logged_}});
  }
  item.done({std::move(outcome), item.last_status, item.attempts, item.last_error});
}

}  // namespace tandem::trace
