#include "common/gzip.h"

#include <zlib.h>

namespace tandem {

GunzipResult Gunzip(std::string_view in, uint64_t max_out, std::string& out) {
  out.clear();
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return GunzipResult::kCorrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  GunzipResult result = GunzipResult::kCorrupt;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t n = sizeof(buf) - zs.avail_out;
    if (out.size() + n > max_out) {
      result = GunzipResult::kTooLarge;
      break;
    }
    out.append(buf, n);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) {
        result = GunzipResult::kOk;
        break;
      }
      if (inflateReset(&zs) != Z_OK) break;  // another member follows
      continue;
    }
    if (rc != Z_OK && !(rc == Z_BUF_ERROR && n > 0)) break;  // corrupt or truncated
  }
  inflateEnd(&zs);
  return result;
}

}  // namespace tandem
