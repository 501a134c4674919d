// The two pipeline colors. Every per-color array in Tandem is indexed by Index().
#pragma once

#include <optional>
#include <string_view>

namespace tandem {

enum class Color { kBlue = 0, kGreen = 1 };

inline constexpr Color kColors[] = {Color::kBlue, Color::kGreen};

constexpr int Index(Color c) { return static_cast<int>(c); }
constexpr Color Other(Color c) { return c == Color::kBlue ? Color::kGreen : Color::kBlue; }
constexpr const char* ColorName(Color c) { return c == Color::kBlue ? "blue" : "green"; }

inline std::optional<Color> ParseColor(std::string_view s) {
  if (s == "blue") return Color::kBlue;
  if (s == "green") return Color::kGreen;
  return std::nullopt;
}

}  // namespace tandem
