// A progress bar for the command-line tools: redrawn in place on a terminal,
// a plain line a second when stderr is a file or a pipe (CI logs, tests).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tandem::app {

class Progress {
 public:
  explicit Progress(std::string label);
  // Cheap to call per event: draws at most 5 times a second.
  void Update(uint64_t done, uint64_t total, const std::string& tail);
  // The last state, then a new line.
  void Finish(uint64_t done, uint64_t total, const std::string& tail);

 private:
  void Draw(uint64_t done, uint64_t total, const std::string& tail, bool last);

  std::string label_;
  bool tty_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace tandem::app
