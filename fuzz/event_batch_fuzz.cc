// Trace's parser for the forwarder's batches over any bytes: it must never
// crash or read past the input, and whatever it accepts must encode back to the
// same bytes (nothing invented, nothing dropped). The answer parser too.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/event_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<tandem::BatchedEvent> events;
  std::string error;
  if (tandem::ParseEventBatch(in, events, error)) {
    if (events.empty() || !error.empty()) abort();
    std::string again;
    for (const auto& e : events) {
      if (!tandem::AppendBatchedEvent(again, e.headers, e.body)) abort();
    }
    if (again != in) abort();
  } else if (error.empty()) {
    abort();
  }
  std::vector<unsigned> statuses;
  for (size_t expected : {size_t{1}, size_t{3}}) {
    if (tandem::ParseBatchAnswer(in, expected, statuses)) {
      if (statuses.size() != expected) abort();
      for (unsigned s : statuses) {
        if (s < 100 || s > 599) abort();
      }
    }
  }
  return 0;
}
