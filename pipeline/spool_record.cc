#include "pipeline/spool_record.h"

#include <zlib.h>

#include <cstring>

namespace tandem::pipeline {
namespace {

// Records larger than this are corruption, not data (bodies are capped far lower).
constexpr uint32_t kMaxPayload = 64u << 20;

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

struct Reader {
  std::string_view d;
  bool ok = true;
  uint32_t U32() {
    if (d.size() < 4) return ok = false, 0;
    auto u = [&](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(d[i])); };
    uint32_t v = u(0) | u(1) << 8 | u(2) << 16 | u(3) << 24;
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
  return base == 0 ? 0 : static_cast<uint32_t>((base * 0x9E3779B97F4A7C15ull) >> 32) | 1u;
}

void SealFrame(std::string& frame, uint64_t base) {
  uint32_t salt = SegmentSalt(base);
  for (int i = 0; i < 4; ++i)
    frame[4 + i] =
        static_cast<char>(static_cast<unsigned char>(frame[4 + i]) ^ ((salt >> (8 * i)) & 0xff));
}

void EncodeFrame(const SpoolRecord& r, std::string& out) {
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
  std::string_view payload(out.data() + start + kFrameHeader, out.size() - start - kFrameHeader);
  uint32_t len = static_cast<uint32_t>(payload.size());
  uint32_t crc = Crc(payload);
  std::string hdr;
  PutU32(hdr, len);
  PutU32(hdr, crc);
  std::memcpy(out.data() + start, hdr.data(), kFrameHeader);
}

size_t DecodeFrame(std::string_view data, uint64_t base, SpoolRecord& out) {
  Reader h{data};
  uint32_t len = h.U32();
  uint32_t crc = h.U32();
  if (!h.ok || len > kMaxPayload || data.size() < kFrameHeader + len) return 0;
  std::string_view payload = data.substr(kFrameHeader, len);
  if ((Crc(payload) ^ SegmentSalt(base)) != crc) return 0;
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
  if (!r.ok || !r.d.empty()) return 0;
  return kFrameHeader + len;
}

}  // namespace tandem::pipeline
