#include "pipeline/spool_frame.h"

#include <zlib.h>

#include <cstring>

namespace tandem::pipeline {
namespace {

void PutU32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  out.append(b, 4);
}
void PutI64(std::string& out, int64_t v) {
  PutU32(out, static_cast<uint32_t>(static_cast<uint64_t>(v)));
  PutU32(out, static_cast<uint32_t>(static_cast<uint64_t>(v) >> 32));
}
void PutStr(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

uint32_t GetU32(const char* p) {
  auto u = [&](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(p[i])); };
  return u(0) | u(1) << 8 | u(2) << 16 | u(3) << 24;
}

void SetU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

// Bounds-checked reads of a payload whose CRC already checked out.
struct Reader {
  std::string_view d;
  bool ok = true;
  uint32_t U32() {
    if (d.size() < 4) return ok = false, 0;
    uint32_t v = GetU32(d.data());
    d.remove_prefix(4);
    return v;
  }
  int64_t I64() {
    uint64_t lo = U32(), hi = U32();
    return static_cast<int64_t>(lo | hi << 32);
  }
  std::string Str() {
    uint32_t n = U32();
    if (!ok || d.size() < n) return ok = false, std::string();
    std::string s(d.substr(0, n));
    d.remove_prefix(n);
    return s;
  }
};

uint32_t Crc(std::string_view s) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

}  // namespace

uint32_t SegmentSalt(uint64_t base) {
  return static_cast<uint32_t>((base * 0x9E3779B97F4A7C15ull) >> 32) | 1u;
}

bool EncodeFrame(const SpoolRecord& r, std::string& out) {
  size_t start = out.size();
  out.append(kFrameHeader, '\0');
  PutStr(out, r.tandem_id);
  PutI64(out, r.received_at_ms);
  PutStr(out, r.role);
  PutU32(out, static_cast<uint32_t>(r.headers.size()));
  for (const auto& [k, v] : r.headers) {
    PutStr(out, k);
    PutStr(out, v);
  }
  PutStr(out, r.body);
  size_t len = out.size() - start - kFrameHeader;
  if (len > kMaxPayload) {
    out.resize(start);
    return false;
  }
  char* h = out.data() + start;
  std::memcpy(h, kFrameMagic, 4);
  SetU32(h + 4, static_cast<uint32_t>(len));
  SetU32(h + 8, Crc(std::string_view(h + kFrameHeader, len)));
  return true;
}

void SealFrame(std::string& frame, uint64_t base) {
  SetU32(frame.data() + 12, Crc(std::string_view(frame.data(), 12)) ^ SegmentSalt(base));
}

HeaderCheck CheckHeader(std::string_view data, uint64_t base, uint32_t& payload_len) {
  size_t n = std::min(data.size(), kFrameHeader);
  if (std::memcmp(data.data(), kFrameMagic, std::min<size_t>(n, 4)) != 0) return HeaderCheck::kBad;
  if (n < kFrameHeader) return HeaderCheck::kIncomplete;
  if ((Crc(data.substr(0, 12)) ^ SegmentSalt(base)) != GetU32(data.data() + 12)) {
    return HeaderCheck::kBad;
  }
  payload_len = GetU32(data.data() + 4);
  if (payload_len > kMaxPayload) return HeaderCheck::kBad;
  return HeaderCheck::kOk;
}

bool DecodePayload(std::string_view frame, SpoolRecord& out) {
  uint32_t len = GetU32(frame.data() + 4);
  std::string_view payload = frame.substr(kFrameHeader, len);
  if (payload.size() != len || Crc(payload) != GetU32(frame.data() + 8)) return false;
  Reader r{payload};
  out.tandem_id = r.Str();
  out.received_at_ms = r.I64();
  out.role = r.Str();
  uint32_t n = r.U32();
  out.headers.clear();
  for (uint32_t i = 0; r.ok && i < n; ++i) {
    std::string k = r.Str();
    std::string v = r.Str();
    out.headers.emplace_back(std::move(k), std::move(v));
  }
  out.body = r.Str();
  return r.ok && r.d.empty();
}

}  // namespace tandem::pipeline
