// The spool's frame scanner over any bytes: it must never crash, never allocate
// from a length it has not checked, and account for every byte (returned in a
// frame or skipped).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "pipeline/spool_segment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tandem::pipeline;
  int fd = memfd_create("segment", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (size > 0 && write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    return 0;
  }
  // Base 0 (salt of the first segment); a frame sealed for it checks out.
  for (size_t chunk : {size_t{64}, size_t{4096}}) {
    FrameScanner scan(fd, 0, 0, size, chunk);
    SpoolRecord rec;
    uint64_t start = 0, end = 0, last_end = 0, in_frames = 0;
    while (scan.Next(rec, start, end)) {
      if (start < last_end || end <= start || end > size) abort();
      in_frames += end - start;
      last_end = end;
    }
    if (scan.error()) abort();
    if (scan.offset() != size || in_frames + scan.skipped() != size) abort();
  }
  close(fd);
  return 0;
}
