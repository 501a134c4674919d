// spool_dir/dead-letter.jsonl: events the dataset refuses for good (SPEC section
// 5), one JSON object per line, appended and synced before the loader moves on,
// so an operator can see, fix and reload them.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "datasets/dataset.h"

namespace tandem::pipeline {

struct DeadLetterEntry {
  std::string table;  // raw, rejected
  std::string tandem_id;
  int64_t received_at_ms = 0;
  std::string reason;
  std::string data;  // the body, any bytes
};

class DeadLetter {
 public:
  explicit DeadLetter(std::string path) : path_(std::move(path)) {}
  // Appends the entries and syncs the file; thread-safe.
  Status Append(const std::vector<DeadLetterEntry>& entries);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;
};

}  // namespace tandem::pipeline
