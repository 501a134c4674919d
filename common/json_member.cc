#include "common/json_member.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tandem {
namespace {

// Deeper documents are valid JSON too, but rare enough to leave to SQLite.
constexpr int kMaxDepth = 64;

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[i_]; }
  bool Eat(char c) {
    if (AtEnd() || s_[i_] != c) return false;
    ++i_;
    return true;
  }

  // A string at the cursor; `body` is what lies between the quotes, `plain`
  // whether it has no escape.
  bool String(std::string_view& body, bool& plain) {
    if (!Eat('"')) return false;
    size_t start = i_;
    plain = true;
    while (i_ < s_.size()) {
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        body = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c < 0x20) return false;  // control characters must be escaped
      if (c == '\\') {
        plain = false;
        if (++i_ >= s_.size()) return false;
        char e = s_[i_];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            if (++i_ >= s_.size() || !Hex(s_[i_])) return false;
          }
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                   e != 'r' && e != 't') {
          return false;
        }
      }
      ++i_;
    }
    return false;
  }

  bool Value(int depth) {
    if (depth > kMaxDepth) return false;
    SkipSpace();
    char c = Peek();
    if (c == '{') return Object(depth + 1, {}, nullptr);
    if (c == '[') return Array(depth + 1);
    if (c == '"') {
      std::string_view body;
      bool plain;
      return String(body, plain);
    }
    if (c == 't') return Word("true");
    if (c == 'f') return Word("false");
    if (c == 'n') return Word("null");
    return Number();
  }

  // An object at the cursor. At the top level (`found` set) it also finds the
  // one plain string value of `key`; false when unsure.
  bool Object(int depth, std::string_view key, std::optional<std::string_view>* found) {
    if (!Eat('{')) return false;
    SkipSpace();
    if (Eat('}')) return true;
    bool seen = false;
    for (;;) {
      SkipSpace();
      std::string_view name;
      bool plain;
      if (!String(name, plain)) return false;
      if (found && !plain) return false;  // a key spelled with escapes might be `key`
      SkipSpace();
      if (!Eat(':')) return false;
      if (found && name == key) {
        if (seen) return false;  // which one wins is the parser's business
        seen = true;
        SkipSpace();
        std::string_view value;
        bool plain_value;
        if (Peek() != '"' || !String(value, plain_value) || !plain_value) return false;
        *found = value;
      } else if (!Value(depth)) {
        return false;
      }
      SkipSpace();
      if (Eat('}')) return true;
      if (!Eat(',')) return false;
    }
  }

 private:
  static bool Hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
  static bool Digit(char c) { return c >= '0' && c <= '9'; }

  bool Array(int depth) {
    if (!Eat('[')) return false;
    SkipSpace();
    if (Eat(']')) return true;
    for (;;) {
      if (!Value(depth)) return false;
      SkipSpace();
      if (Eat(']')) return true;
      if (!Eat(',')) return false;
    }
  }

  bool Word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number() {
    Eat('-');
    if (Eat('0')) {
      if (Digit(Peek())) return false;
    } else {
      if (!Digit(Peek())) return false;
      while (Digit(Peek())) ++i_;
    }
    if (Eat('.')) {
      if (!Digit(Peek())) return false;
      while (Digit(Peek())) ++i_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++i_;
      if (Peek() == '+' || Peek() == '-') ++i_;
      if (!Digit(Peek())) return false;
      while (Digit(Peek())) ++i_;
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<std::string_view> PlainTopLevelString(std::string_view json, std::string_view key) {
  // '$.key' names the member `key` only for a plain, non-empty key.
  if (key.empty() || key.find_first_of(".[]*\"\\$") != std::string_view::npos) return std::nullopt;
  Scanner scan(json);
  scan.SkipSpace();
  std::optional<std::string_view> found;
  if (!scan.Object(1, key, &found)) return std::nullopt;
  scan.SkipSpace();
  if (!scan.AtEnd()) return std::nullopt;
  return found;
}

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Bodies are nearly all ASCII: eight bytes at a time while no high bit is set.
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // The ranges of the Unicode Standard's table 3-7 (well-formed sequences).
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > n) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    i += len;
  }
  return true;
}

}  // namespace tandem
