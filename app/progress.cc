#include "app/progress.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>

namespace tandem::app {

Progress::Progress(std::string label) : label_(std::move(label)), tty_(isatty(STDERR_FILENO)) {}

void Progress::Update(uint64_t done, uint64_t total, const std::string& tail) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(tty_ ? 200 : 1000)) return;
  last_ = now;
  Draw(done, total, tail, false);
}

void Progress::Finish(uint64_t done, uint64_t total, const std::string& tail) {
  Draw(done, total, tail, true);
}

void Progress::Draw(uint64_t done, uint64_t total, const std::string& tail, bool last) {
  if (!tty_) {
    // The summary that follows says the last state; a log needs no repeat.
    if (!last) std::cerr << label_ << ": " << tail << "\n";
    return;
  }
  constexpr int kWidth = 30;
  double share = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  int filled = std::clamp(static_cast<int>(kWidth * share), 0, kWidth);
  std::cerr << "\r" << label_ << " [" << std::string(filled, '#')
            << std::string(kWidth - filled, '.') << "] " << tail << "\033[K" << (last ? "\n" : "")
            << std::flush;
}

}  // namespace tandem::app
