// Which events the candidate also gets (SPEC section 4). Sampling is by device,
// so a candidate sees whole sessions and every splitter of a fleet picks the
// same devices: an event goes when the first 8 bytes of SHA-256 of its
// `deviceId` (the JSON string's value), read as a big-endian unsigned integer,
// are below mirror_fraction x 2^64. A body with no string `deviceId` (not
// JSON, not an object, another type) is sampled the same way by its tandem id.
//
// At 1.0 and 0 nothing is read. Below 1.0 the body is checked for UTF-8 and
// scanned once without building a tree or allocating (common/json_member.h),
// so a body a strict parser refuses is never read as having a device; only a body the scan
// cannot be sure of (escapes in keys or in the id, a repeated key, no
// deviceId at all) is parsed in full, with the parser trace uses.
#pragma once

#include <cstdint>
#include <string_view>

namespace tandem::splitter {

class MirrorSample {
 public:
  // `fraction` in [0, 1] (the config checks it).
  explicit MirrorSample(double fraction = 1.0);

  // Whether this event's copy goes to the candidate.
  bool Includes(std::string_view body, std::string_view tandem_id) const;

  double fraction() const { return fraction_; }

 private:
  double fraction_;
  bool all_, none_;
  uint64_t threshold_;  // fraction x 2^64, when neither all_ nor none_
};

// The 64-bit key the rule compares: SHA-256's first 8 bytes, big-endian.
uint64_t SampleKey(std::string_view device_id);

}  // namespace tandem::splitter
