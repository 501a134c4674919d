#include "splitter/mirror_sample.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/json_member.h"
#include "common/sha256.h"

namespace tandem::splitter {

MirrorSample::MirrorSample(double fraction)
    : fraction_(fraction), all_(fraction >= 1.0), none_(!(fraction > 0.0)), threshold_(0) {
  // Exact: below 1, fraction x 2^64 is below 2^64 and a double's 53 bits survive the scaling.
  if (!all_ && !none_) threshold_ = static_cast<uint64_t>(std::ldexp(fraction, 64));
}

uint64_t SampleKey(std::string_view device_id) { return Sha256Prefix64(device_id); }

bool MirrorSample::Includes(std::string_view body, std::string_view tandem_id) const {
  if (all_) return true;
  if (none_) return false;
  // Not UTF-8 is not JSON: no deviceId, as trace's parser would find none.
  if (!IsValidUtf8(body)) return SampleKey(tandem_id) < threshold_;
  if (auto device = PlainTopLevelString(body, "deviceId")) return SampleKey(*device) < threshold_;
  // The scan was not sure: the parser trace reads events with decides (escapes
  // decoded, a repeated key resolved as trace resolves it).
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    auto it = doc.find("deviceId");
    if (it != doc.end() && it->is_string())
      return SampleKey(it->get_ref<const std::string&>()) < threshold_;
  }
  return SampleKey(tandem_id) < threshold_;
}

}  // namespace tandem::splitter
