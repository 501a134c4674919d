// A consumer's position in the spool, persisted (write, fsync, rename) so that a
// restart resumes where the consumer stopped.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

namespace tandem::pipeline {

class Checkpoint {
 public:
  explicit Checkpoint(std::string path) : path_(std::move(path)) {}
  // The saved position, or 0 when there is none. Throws on an unreadable file.
  uint64_t Load() const;
  std::error_code Save(uint64_t pos);

 private:
  std::string path_;
};

}  // namespace tandem::pipeline
