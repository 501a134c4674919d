#include "splitter/splitter_metrics.h"

#include <boost/beast/core/error.hpp>
#include <iterator>

#include "common/http_client.h"

namespace tandem::splitter {

Outcome OutcomeOf(const boost::system::error_code& ec, const http::Response& res) {
  if (ec == boost::beast::error::timeout) return Outcome::kTimeout;
  if (ec == http::kPoolFull) return Outcome::kShed;
  if (ec || res.result_int() >= 500) return Outcome::kError;
  return Outcome::kOk;
}

SplitterMetrics::SplitterMetrics(Metrics& m)
    : responses_(m.Counter("tandem_splitter_responses_total",
                           "Ingest responses sent to clients, by status code")),
      admin_(m.Counter("tandem_splitter_admin_requests_total",
                       "Admin API requests, by endpoint and status")),
      swaps_(m.Counter("tandem_splitter_swaps_total", "Live/candidate swaps, by kind")),
      dispatcher_requests_(
          m.Counter("tandem_splitter_dispatcher_requests_total",
                    "Copies sent to each dispatcher address of a color (both roles), by outcome")) {
  auto& fwd = m.Counter("tandem_splitter_forwarded_total",
                        "Copies of client requests sent to a color's dispatcher, by outcome");
  auto& lat = m.Histogram("tandem_splitter_upstream_latency_seconds",
                          "Time from forwarding a request to the dispatcher's answer");
  auto& infl = m.Gauge("tandem_splitter_inflight", "Requests waiting for a dispatcher's answer");
  const char* colors[] = {"blue", "green"};
  const char* roles[] = {"live", "candidate"};
  const char* outcomes[] = {"ok", "error", "timeout", "shed"};
  for (int c = 0; c < 2; ++c) {
    for (int r = 0; r < 2; ++r) {
      for (int o = 0; o < 4; ++o) {
        forwarded_[c][r][o] =
            &fwd.Add({{"color", colors[c]}, {"role", roles[r]}, {"outcome", outcomes[o]}});
      }
      latency_[c][r] =
          &lat.Add({{"color", colors[c]}, {"role", roles[r]}}, Metrics::LatencyBuckets());
      inflight_[c][r] = &infl.Add({{"color", colors[c]}, {"role", roles[r]}});
    }
  }
  auto& retries = m.Counter("tandem_splitter_candidate_retries_total",
                            "Candidate copies sent again after the candidate refused, dropped "
                            "the connection or answered 503");
  auto& parked = m.Gauge("tandem_splitter_candidate_parked",
                         "Candidate copies waiting to be sent again (within candidate_retry_ms)");
  for (int c = 0; c < 2; ++c) {
    retries_[c] = &retries.Add({{"color", colors[c]}});
    parked_[c] = &parked.Add({{"color", colors[c]}});
  }
  store_reachable_ = &m.Gauge("tandem_splitter_store_reachable",
                              "1 while the state store answers (always 1 without splitter.etcd)")
                          .Add({});
  store_unreachable_seconds_ =
      &m.Gauge("tandem_splitter_store_unreachable_seconds",
               "How long the state store has not answered (0 while it does)")
           .Add({});
  store_revision_ = &m.Gauge("tandem_splitter_store_revision",
                             "The etcd revision of the state this splitter routes by")
                         .Add({});
  store_reachable_->Set(1);
  auto& rej = m.Counter("tandem_splitter_rejected_total",
                        "Client requests refused before forwarding, by reason");
  const char* reasons[] = {"body_too_large", "empty_body",         "unsupported_media_type",
                           "not_found",      "method_not_allowed", "malformed",
                           "header_timeout", "cors_forbidden",     "unsupported_encoding",
                           "bad_encoding"};
  static_assert(std::size(reasons) == static_cast<size_t>(Rejection::kCount));
  for (int i = 0; i < static_cast<int>(Rejection::kCount); ++i)
    rejected_[i] = &rej.Add({{"reason", reasons[i]}});
  // The usual answers exist from the start, so dashboards show zeros, not gaps.
  for (unsigned code : {202u, 400u, 403u, 404u, 405u, 413u, 415u, 502u, 504u}) {
    by_status_[code] = &responses_.Add({{"code", std::to_string(code)}});
  }
  auto& closed =
      m.Counter("tandem_splitter_connections_closed_total",
                "Client connections the splitter closed to stay within its caps, by reason");
  auto& open = m.Gauge("tandem_splitter_open_connections", "Client connections open, by listener");
  const char* listeners[] = {"ingest", "admin"};
  const char* why[] = {"idle_evicted", "refused", "first_byte_timeout"};
  for (int l = 0; l < 2; ++l) {
    open_[l] = &open.Add({{"listener", listeners[l]}});
    for (int r = 0; r < 3; ++r)
      closed_[l][r] = &closed.Add({{"listener", listeners[l]}, {"reason", why[r]}});
  }
  auto& live = m.Gauge("tandem_splitter_live", "1 for the color that is live");
  for (int c = 0; c < 2; ++c) live_[c] = &live.Add({{"color", colors[c]}});
}

void SplitterMetrics::Response(unsigned status) {
  if (status >= by_status_.size()) status = 0;
  prometheus::Counter* c = by_status_[status].load(std::memory_order_acquire);
  if (!c) {
    // Family::Add is idempotent and locked; only the first response of a code gets here.
    c = &responses_.Add({{"code", std::to_string(status)}});
    by_status_[status].store(c, std::memory_order_release);
  }
  c->Increment();
}

void SplitterMetrics::SetLive(Color live) {
  live_[Index(live)]->Set(1);
  live_[Index(Other(live))]->Set(0);
}

void SplitterMetrics::Admin(const char* endpoint, unsigned status) {
  admin_.Add({{"endpoint", endpoint}, {"code", std::to_string(status)}}).Increment();
}

void SplitterMetrics::AddDispatchers(Color c, const std::vector<HostPort>& addresses) {
  auto& family = dispatcher_requests_;
  const char* outcomes[] = {"ok", "error", "timeout", "shed"};
  per_address_[Index(c)].clear();
  for (const auto& a : addresses) {
    std::array<prometheus::Counter*, 4> row{};
    for (int o = 0; o < 4; ++o) {
      row[o] = &family.Add(
          {{"color", ColorName(c)}, {"address", a.ToString()}, {"outcome", outcomes[o]}});
    }
    per_address_[Index(c)].push_back(row);
  }
}

}  // namespace tandem::splitter
