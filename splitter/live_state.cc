#include "splitter/live_state.h"

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/clock.h"
#include "common/file_util.h"

namespace tandem::splitter {

nlohmann::json StateJson(const LiveSnapshot& s) {
  return {{"live", ColorName(s.live)}, {"changed_at_ms", s.changed_at_ms}};
}

std::optional<LiveSnapshot> ParseStateJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("live") || !j["live"].is_string()) return std::nullopt;
  auto c = ParseColor(j["live"].get<std::string>());
  if (!c) return std::nullopt;
  LiveSnapshot s{*c, 0};
  if (j.contains("changed_at_ms") && j["changed_at_ms"].is_number_integer()) {
    s.changed_at_ms = j["changed_at_ms"].get<int64_t>();
  }
  return s;
}

LiveState::LiveState(std::string state_file, Color initial_live) : file_(std::move(state_file)) {
  live_ = static_cast<int>(initial_live);
  changed_at_ms_ = 0;
  std::string text;
  if (!std::filesystem::exists(file_)) return;
  if (!ReadFile(file_, text))
    throw std::runtime_error(file_ + ": cannot read the splitter state file");
  auto s = ParseStateJson(text);
  if (!s) {
    throw std::runtime_error(file_ +
                             ": not a splitter state file (expected {\"live\":\"blue|green\"}); "
                             "fix or delete it to start from initial_live");
  }
  live_ = static_cast<int>(s->live);
  changed_at_ms_ = s->changed_at_ms;
  from_file_ = true;
}

LiveSnapshot LiveState::Snapshot() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  return {live(), changed_at_ms_.load()};
}

std::error_code LiveState::SetLive(Color new_live, LiveSnapshot& result) {
  std::lock_guard<std::mutex> lock(write_mu_);
  LiveSnapshot next{new_live, UnixMillis()};
  if (auto ec = WriteFileAtomic(file_, StateJson(next).dump() + "\n")) return ec;
  Publish(next);
  result = next;
  return {};
}

std::error_code LiveState::Adopt(const LiveSnapshot& s) {
  std::lock_guard<std::mutex> lock(write_mu_);
  std::error_code ec = WriteFileAtomic(file_, StateJson(s).dump() + "\n");
  Publish(s);
  return ec;
}

void LiveState::Publish(const LiveSnapshot& s) {
  changed_at_ms_ = s.changed_at_ms;
  live_.store(static_cast<int>(s.live), std::memory_order_release);
}

}  // namespace tandem::splitter
