// The one-pass event-name scan against SQLite's own JSON functions: whenever
// the scan answers, json_extract must give the same text (compare's event
// counts depend on it), and the scan must never crash on any bytes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/json_member.h"
#include "datasets/sqlite_dataset.h"
#include "tests/support/sqlite_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tandem::SqliteDataset db(":memory:");
  std::string body(reinterpret_cast<const char*>(data), size);
  auto fast = tandem::PlainTopLevelString(body, "event");
  if (!fast) return 0;
  if (tandem::testing::SqliteJsonExtract(db, body, "$.event") != "text|" + std::string(*fast))
    abort();
  return 0;
}
