// The sampling rule of SPEC section 4, on known SHA-256 values (computed with
// Python's hashlib): which bytes are hashed, how the key compares with the
// fraction, and that the body's spelling does not change a device's fate.
#include "splitter/mirror_sample.h"

#include <gtest/gtest.h>

#include "common/sha256.h"

namespace tandem::splitter {
namespace {

constexpr const char* kId = "0190a1b2-c3d4-7e5f-8a9b-000000000001";

TEST(MirrorSample, TheKeyIsSha256sFirstEightBytesBigEndian) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Prefix64("abc"), 0xba7816bf8f01cfeaull);
  EXPECT_EQ(SampleKey("device-0"), 0x4637ea12bf9a0fd4ull);  // 0.2743 of 2^64
  EXPECT_EQ(SampleKey("device-2"), 0x588605bf5362e8b7ull);  // 0.3458
  EXPECT_EQ(SampleKey(""), 0xe3b0c44298fc1c14ull);
  EXPECT_EQ(SampleKey("\xc3\xa9-device"), 0x057bc0f497fd0f46ull);  // "é-device", UTF-8
}

TEST(MirrorSample, ADeviceIsSampledWhenItsKeyIsBelowTheFractionOfTwoToTheSixtyFour) {
  MirrorSample s(0.3);
  EXPECT_TRUE(s.Includes(R"({"event":"a","deviceId":"device-0"})", kId));
  EXPECT_TRUE(s.Includes(R"({"event":"a","deviceId":"device-1"})", kId));
  EXPECT_FALSE(s.Includes(R"({"event":"a","deviceId":"device-2"})", kId));
  EXPECT_FALSE(s.Includes(R"({"event":"a","deviceId":"d-7"})", kId));
  // The boundary: device-0's key is 0.27429068525 of 2^64.
  EXPECT_FALSE(MirrorSample(0.2742906).Includes(R"({"deviceId":"device-0"})", kId));
  EXPECT_TRUE(MirrorSample(0.2742907).Includes(R"({"deviceId":"device-0"})", kId));
}

TEST(MirrorSample, TheStringsValueIsHashedHoweverTheBodySpellsIt) {
  MirrorSample s(0.3);
  for (const char* body : {
           R"({"deviceId":"device-0"})",
           R"(  {"properties":{"deviceId":"d-7"},"deviceId" : "device-0","event":"x"} )",
           R"({"deviceId":"\u0064evice-0"})",              // an escape: the full parser decides
           R"({"\u0064eviceId":"device-0"})",              // an escaped key
           R"({"deviceId":"d-7","deviceId":"device-0"})",  // repeated: the last, as trace reads it
       }) {
    EXPECT_TRUE(s.Includes(body, kId)) << body;
  }
  EXPECT_TRUE(s.Includes(R"({"deviceId":"\u00e9-device"})", kId)) << "é, UTF-8";
}

TEST(MirrorSample, ABodyWithNoStringDeviceIdIsSampledByItsTandemId) {
  // kId's key is 0.865 of 2^64: out at 0.3, in at 0.9.
  for (const char* body : {"not json", R"({"deviceId":42})", R"(["deviceId","device-0"])",
                           R"({"event":"x"})", R"({"deviceId":"device-0")"}) {
    EXPECT_FALSE(MirrorSample(0.3).Includes(body, kId)) << body;
    EXPECT_TRUE(MirrorSample(0.9).Includes(body, kId)) << body;
  }
}

// A body that is not UTF-8 is not JSON (trace's parser refuses it), wherever
// the bad byte is: sampled by its id, as a full parse would have it.
TEST(MirrorSample, ABodyThatIsNotUtf8IsSampledByItsTandemId) {
  const std::string bad = "{\"deviceId\":\"device-0\",\"note\":\"\xff\"}";
  EXPECT_TRUE(MirrorSample(0.3).Includes(R"({"deviceId":"device-0","note":"x"})", kId));
  EXPECT_FALSE(MirrorSample(0.3).Includes(bad, kId));
  EXPECT_TRUE(MirrorSample(0.9).Includes(bad, kId));
}

TEST(MirrorSample, OneAndZeroDecideWithoutReading) {
  EXPECT_TRUE(MirrorSample(1.0).Includes(R"({"deviceId":"d-7"})", kId));
  EXPECT_TRUE(MirrorSample(1.0).Includes("", ""));
  EXPECT_FALSE(MirrorSample(0.0).Includes(R"({"deviceId":"device-1"})", kId));
}

}  // namespace
}  // namespace tandem::splitter
