#include "tests/support/generated_datasets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "common/sha256.h"

namespace tandem::testing {
namespace {

using json = nlohmann::json;

// As the splitter stamps them: a UUIDv7 whose time is the event's received_at
// (compare's SQLite path relies on that), then bits of `n` to keep ids unique.
std::string Id(int64_t received_ms, uint64_t n) {
  char buf[40];
  const auto t = static_cast<unsigned long long>(received_ms);
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-7%03x-8%03x-%012llx", (t >> 16) & 0xffffffff,
                t & 0xffff, static_cast<unsigned>((n >> 60) & 0xf),
                static_cast<unsigned>((n >> 48) & 0xfff),
                static_cast<unsigned long long>(n & 0xffffffffffffull));
  return buf;
}

json Payload(const std::string& vendor, const std::string& event, const std::string& id,
             const std::string& device, uint64_t n) {
  json props = {{"path", "/p/" + std::to_string(n % 50)}};
  if (event == "purchase product") {
    props["category"] = "cat-" + std::to_string(n % 7);
    props["productName"] = "product " + std::to_string(n % 31);
  }
  if (vendor == "hooks") return {{"event", event}, {"id", id}, {"properties", props}};
  return {
      {"event_type", event}, {"insert_id", id}, {"device_id", device}, {"event_properties", props}};
}

void Strip(json& payload, const std::string& field) {
  for (auto* obj :
       {&payload, payload.contains("event_properties") ? &payload["event_properties"] : nullptr,
        payload.contains("properties") ? &payload["properties"] : nullptr}) {
    if (obj && obj->is_object()) obj->erase(field);
  }
}

}  // namespace

const std::vector<std::string>& GeneratedEventNames() {
  static const std::vector<std::string> names = {"pageview", "purchase product", "signup",
                                                 "add to cart"};
  return names;
}

bool DeviceSampled(const std::string& device_id, double fraction) {
  if (fraction >= 1) return true;
  if (fraction <= 0) return false;
  // fraction x 2^64 compared as a long double: exact for these fractions.
  return static_cast<long double>(Sha256Prefix64(device_id)) <
         std::ldexp(static_cast<long double>(fraction), 64);
}

GeneratedTraffic Generate(const TrafficSpec& spec) {
  GeneratedTraffic out;
  std::mt19937_64 rng(spec.seed);
  std::discrete_distribution<int> pick(spec.event_weights.begin(), spec.event_weights.end());
  std::map<int, bool> sampled;  // device -> picked by the rule
  std::uniform_real_distribution<double> unit(0, 1);
  std::exponential_distribution<double> late(spec.late_mean_ms > 0 ? 1.0 / spec.late_mean_ms : 1.0);
  auto arrival = [&](int64_t at) {
    if (spec.late_mean_ms <= 0) return at;
    return at + std::min<int64_t>(static_cast<int64_t>(late(rng)), spec.late_max_ms);
  };
  int altered = 0;
  const uint64_t total = static_cast<uint64_t>(spec.windows) * spec.events_per_window;
  for (uint64_t n = 0; n < total; ++n) {
    int64_t window = static_cast<int64_t>(n / spec.events_per_window);
    int64_t offset = static_cast<int64_t>((n % spec.events_per_window) * spec.window_ms /
                                          spec.events_per_window);
    int64_t received = spec.start_ms + window * spec.window_ms + offset;
    const std::string& event = GeneratedEventNames()[pick(rng)];
    std::string id = Id(received, spec.seed * 1000000007ull + n);
    const int device_n = static_cast<int>(n % static_cast<uint64_t>(spec.devices));
    std::string device = "d-" + std::to_string(device_n);
    json body = {{"event", event}, {"deviceId", device}, {"properties", {{"n", n}}}};
    auto it = sampled.find(device_n);
    if (it == sampled.end())
      it = sampled.emplace(device_n, DeviceSampled(device, spec.mirror_fraction)).first;
    const char* mirror = "sent";
    if (!it->second) {
      mirror = "sampled_out";
      ++out.sampled_out;
    } else if (spec.shed_fraction > 0 && unit(rng) < spec.shed_fraction) {
      mirror = "shed";
      ++out.shed;
    } else {
      ++out.sent;
    }
    const bool sent = std::string_view(mirror) == "sent";
    RawRow raw{id, received, body.dump(), mirror};
    bool dropped = sent && ((event == spec.drop_event && unit(rng) < spec.drop_fraction) ||
                            (spec.drop_every > 0 && out.sent % spec.drop_every == 0));
    out.live.raw.emplace_back(arrival(received), raw);
    if (dropped) {
      ++out.dropped;
    } else if (sent) {
      out.candidate.raw.emplace_back(arrival(received), raw);
    }
    for (const auto& vendor : spec.vendors) {
      json live_payload = Payload(vendor, event, id, device, n);
      std::string lp = live_payload.dump();
      DeliveryRow row{id, vendor, "delivered", 200, 1, received + 50, Sha256Hex(lp), lp};
      out.live.deliveries.emplace_back(arrival(received + 50), row);
      if (dropped || !sent) continue;
      json cand_payload = live_payload;
      if (vendor == spec.strip_vendor && event == spec.strip_event)
        Strip(cand_payload, spec.strip_field);
      if (vendor == spec.vendors.front() && altered < spec.alter_payloads && event == "pageview") {
        ++altered;
        cand_payload["event_properties"]["path"] = "/altered";
      }
      std::string cp = cand_payload.dump();
      DeliveryRow crow{id, vendor, "skipped", 0, 0, received + 50, Sha256Hex(cp), cp};
      out.candidate.deliveries.emplace_back(arrival(received + 50), crow);
    }
  }
  // By arrival, so WriteArrived finds a time range by binary search.
  for (GeneratedColor* c : {&out.live, &out.candidate}) {
    auto by_time = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::stable_sort(c->raw.begin(), c->raw.end(), by_time);
    std::stable_sort(c->deliveries.begin(), c->deliveries.end(), by_time);
  }
  return out;
}

void WriteArrived(const GeneratedColor& rows, Dataset& dataset, int64_t after_ms,
                  int64_t until_ms) {
  auto range = [&](const auto& rows) {
    auto lo = std::lower_bound(rows.begin(), rows.end(), after_ms,
                               [](const auto& r, int64_t t) { return r.first < t; });
    auto hi = std::lower_bound(lo, rows.end(), until_ms,
                               [](const auto& r, int64_t t) { return r.first < t; });
    return std::pair{lo, hi};
  };
  std::vector<RawRow> raw;
  std::vector<DeliveryRow> deliveries;
  auto [rlo, rhi] = range(rows.raw);
  for (auto it = rlo; it != rhi; ++it) raw.push_back(it->second);
  auto [dlo, dhi] = range(rows.deliveries);
  for (auto it = dlo; it != dhi; ++it) deliveries.push_back(it->second);
  for (size_t i = 0; i < raw.size(); i += 5000) {
    std::vector<RawRow> chunk(raw.begin() + i, raw.begin() + std::min(raw.size(), i + 5000));
    Status s = dataset.InsertRaw(chunk).status;
    ASSERT_TRUE(s.ok()) << s.message();
  }
  for (size_t i = 0; i < deliveries.size(); i += 5000) {
    std::vector<DeliveryRow> chunk(deliveries.begin() + i,
                                   deliveries.begin() + std::min(deliveries.size(), i + 5000));
    ASSERT_TRUE(dataset.InsertDeliveries(chunk).status.ok());
  }
}

}  // namespace tandem::testing
