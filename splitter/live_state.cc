#include "splitter/live_state.h"

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/clock.h"
#include "common/file_util.h"

namespace tandem::splitter {

LiveState::LiveState(std::string state_file, Color initial_live) : file_(std::move(state_file)) {
  live_ = static_cast<int>(initial_live);
  changed_at_ms_ = 0;
  std::string text;
  if (!std::filesystem::exists(file_)) return;
  if (!ReadFile(file_, text))
    throw std::runtime_error(file_ + ": cannot read the splitter state file");
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::optional<Color> c;
  if (j.is_object() && j.contains("live") && j["live"].is_string())
    c = ParseColor(j["live"].get<std::string>());
  if (!c) {
    throw std::runtime_error(file_ +
                             ": not a splitter state file (expected {\"live\":\"blue|green\"}); "
                             "fix or delete it to start from initial_live");
  }
  live_ = static_cast<int>(*c);
  from_file_ = true;
  if (j.contains("changed_at_ms") && j["changed_at_ms"].is_number_integer()) {
    changed_at_ms_ = j["changed_at_ms"].get<int64_t>();
  }
}

LiveSnapshot LiveState::Snapshot() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  return {live(), changed_at_ms_.load()};
}

std::error_code LiveState::SetLive(Color new_live, LiveSnapshot& result) {
  std::lock_guard<std::mutex> lock(write_mu_);
  int64_t now = UnixMillis();
  nlohmann::json j = {{"live", ColorName(new_live)}, {"changed_at_ms", now}};
  if (auto ec = WriteFileAtomic(file_, j.dump() + "\n")) return ec;
  changed_at_ms_ = now;
  live_.store(static_cast<int>(new_live), std::memory_order_release);
  result = {new_live, now};
  return {};
}

std::error_code LiveState::Adopt(const LiveSnapshot& s) {
  std::lock_guard<std::mutex> lock(write_mu_);
  nlohmann::json j = {{"live", ColorName(s.live)}, {"changed_at_ms", s.changed_at_ms}};
  std::error_code ec = WriteFileAtomic(file_, j.dump() + "\n");
  changed_at_ms_ = s.changed_at_ms;
  live_.store(static_cast<int>(s.live), std::memory_order_release);
  return ec;
}

}  // namespace tandem::splitter
