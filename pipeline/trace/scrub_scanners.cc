#include "pipeline/trace/scrub_scanners.h"

#include <arpa/inet.h>

#include <vector>

namespace tandem::trace::scan {
namespace {

constexpr size_t npos = std::string::npos;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsB64Url(char c) { return IsAlnum(c) || c == '-' || c == '_'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Case-insensitive find of a lower-case `word`.
size_t FindNoCase(const std::string& s, std::string_view word, size_t from) {
  for (size_t i = from; i + word.size() <= s.size(); ++i) {
    size_t k = 0;
    while (k < word.size() && Lower(s[i + k]) == word[k]) ++k;
    if (k == word.size()) return i;
  }
  return npos;
}

// A marker a scanner wrote: never scanned again.
bool IsMarkerAt(const std::string& s, size_t i) { return i < s.size() && s[i] == '['; }

bool IsEmailLocal(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

}  // namespace

bool LuhnValid(std::string_view digits) {
  int sum = 0;
  bool dbl = false;
  for (size_t i = digits.size(); i-- > 0;) {
    if (!IsDigit(digits[i])) continue;
    int d = digits[i] - '0';
    if (dbl) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

bool ReplaceEmails(std::string& s) {
  if (s.find('@') == npos && s.find("%40") == npos) return false;
  bool changed = false;
  for (size_t i = 0; i < s.size();) {
    size_t at_len = s[i] == '@' ? 1 : (s.compare(i, 3, "%40") == 0 ? 3 : 0);
    if (at_len == 0) {
      ++i;
      continue;
    }
    size_t l = i;
    while (l > 0 && IsEmailLocal(s[l - 1])) --l;
    size_t r = i + at_len, j = r;
    while (j < s.size() && (IsAlnum(s[j]) || s[j] == '-' || s[j] == '.')) ++j;
    while (j > r && (s[j - 1] == '.' || s[j - 1] == '-')) --j;
    size_t dot = s.rfind('.', j);
    bool ok = l < i && dot != npos && dot > r && j - dot - 1 >= 2;
    for (size_t k = dot + 1; ok && k < j; ++k) ok = IsAlpha(s[k]);
    if (!ok) {
      i += at_len;
      continue;
    }
    s.replace(l, j - l, "[email]");
    i = l + 7;
    changed = true;
  }
  return changed;
}

bool ReplaceCardNumbers(std::string& s) {
  if (s.size() < 13 || s.find_first_of("0123456789") == npos) return false;
  bool changed = false;
  for (size_t i = 0; i < s.size();) {
    if (!IsDigit(s[i]) || (i > 0 && IsDigit(s[i - 1]))) {
      ++i;
      continue;
    }
    // The digit groups of this run, split by single spaces or dashes.
    std::vector<std::pair<size_t, size_t>> groups;
    size_t j = i;
    while (j < s.size() && IsDigit(s[j])) {
      size_t g = j;
      while (j < s.size() && IsDigit(s[j])) ++j;
      groups.emplace_back(g, j);
      if (j + 1 < s.size() && (s[j] == ' ' || s[j] == '-') && IsDigit(s[j + 1])) ++j;
    }
    size_t run_end = groups.back().second;
    bool replaced = false;
    // The first span of whole groups holding 13-19 digits that passes Luhn and
    // starts like a card (2-6: Mastercard, Amex, Visa, Discover, ...; never a
    // millisecond timestamp, which starts with 1).
    for (size_t a = 0; a < groups.size() && !replaced; ++a) {
      if (s[groups[a].first] < '2' || s[groups[a].first] > '6') continue;
      std::string digits;
      for (size_t b = a; b < groups.size(); ++b) {
        digits.append(s, groups[b].first, groups[b].second - groups[b].first);
        if (digits.size() > 19) break;
        if (digits.size() >= 13 && LuhnValid(digits)) {
          s.replace(groups[a].first, groups[b].second - groups[a].first, "[card]");
          i = groups[a].first + 6;
          replaced = changed = true;
          break;
        }
      }
    }
    if (!replaced) i = run_end;
  }
  return changed;
}

namespace {

// An IPv4 address starting at i: its end, or npos.
size_t Ipv4At(const std::string& s, size_t i) {
  size_t j = i;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (j >= s.size() || s[j] != '.') return npos;
      ++j;
    }
    size_t g = j;
    int value = 0;
    while (j < s.size() && IsDigit(s[j]) && j - g < 3) value = value * 10 + (s[j++] - '0');
    if (j == g || value > 255) return npos;
  }
  if (j < s.size() && (IsDigit(s[j]) || (s[j] == '.' && j + 1 < s.size() && IsDigit(s[j + 1]))))
    return npos;
  return j;
}

bool IsV6Char(char c) { return IsHex(c) || c == ':' || c == '.'; }

}  // namespace

bool ReplaceIpAddresses(std::string& s) {
  bool changed = false;
  for (size_t i = 0; i < s.size();) {
    bool boundary = i == 0 || !(IsAlnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == ':');
    if (!boundary || !IsV6Char(s[i]) || s[i] == '.') {
      ++i;
      continue;
    }
    if (IsDigit(s[i])) {
      if (size_t end = Ipv4At(s, i); end != npos) {
        s.replace(i, end - i, "[ip]");
        i += 4;
        changed = true;
        continue;
      }
    }
    size_t j = i;
    while (j < s.size() && IsV6Char(s[j])) ++j;
    while (j > i && s[j - 1] == '.') --j;  // a sentence's full stop
    std::string cand = s.substr(i, j - i);
    bool has_digit = false;
    int colons = 0;
    for (char c : cand) {
      has_digit |= IsDigit(c);
      colons += c == ':';
    }
    unsigned char buf[16];
    if (colons >= 2 && has_digit && (j == s.size() || !IsAlnum(s[j])) &&
        inet_pton(AF_INET6, cand.c_str(), buf) == 1) {
      s.replace(i, j - i, "[ip]");
      i += 4;
      changed = true;
      continue;
    }
    i = j > i ? j : i + 1;
  }
  return changed;
}

bool ReplacePhoneNumbers(std::string& s) {
  if (s.find_first_of("0123456789") == npos) return false;
  bool changed = false;
  for (size_t t = FindNoCase(s, "tel:", 0); t != npos; t = FindNoCase(s, "tel:", t + 7)) {
    size_t e = t + 4;
    while (e < s.size() && !IsSpace(s[e])) ++e;
    s.replace(t, e - t, "[phone]");
    changed = true;
  }
  for (size_t i = 0; i < s.size();) {
    bool start = s[i] == '+' || s[i] == '(' || IsDigit(s[i]);
    if (!start || (i > 0 && (IsAlnum(s[i - 1]) || s[i - 1] == '+' || s[i - 1] == '.'))) {
      ++i;
      continue;
    }
    // The digit groups of this run: up to two separators (space - . ( )) apart.
    size_t j = i;
    bool plus = s[j] == '+';
    if (plus) ++j;
    struct Group {
      size_t begin, end;
    };
    std::vector<Group> groups;
    size_t digits = 0;
    while (j < s.size()) {
      size_t k = j, seps = 0;
      while (k < s.size() && seps < 2 &&
             (s[k] == ' ' || s[k] == '-' || s[k] == '.' || s[k] == '(' || s[k] == ')')) {
        ++k;
        ++seps;
      }
      if (k >= s.size() || !IsDigit(s[k]) || (seps == 0 && !groups.empty())) break;
      size_t g = k;
      while (k < s.size() && IsDigit(s[k])) ++k;
      groups.push_back({g, k});
      digits += k - g;
      j = k;
    }
    if (groups.empty()) {
      ++i;
      continue;
    }
    size_t run_end = groups.back().end;
    auto size = [&](size_t g) { return groups[g].end - groups[g].begin; };
    // International form: the whole run. Otherwise a North American 3-3-4 (or
    // 1-3-3-4) window anywhere in it: "5.0 (415) 555-2671" holds one.
    size_t from = std::string::npos, to = 0;
    if (plus && digits >= 8 && digits <= 15 && (run_end >= s.size() || !IsAlnum(s[run_end]))) {
      from = i;
      to = run_end;
    }
    for (size_t g = 0; from == std::string::npos && g + 3 <= groups.size(); ++g) {
      if (size(g) == 3 && size(g + 1) == 3 && size(g + 2) == 4) {
        bool one = g > 0 && size(g - 1) == 1 && s[groups[g - 1].begin] == '1';
        from = one ? groups[g - 1].begin : groups[g].begin;
        if (from > i && s[from - 1] == '(') --from;
        to = groups[g + 2].end;
      }
    }
    if (from != std::string::npos) {
      s.replace(from, to - from, "[phone]");
      i = from + 7;
      changed = true;
      continue;
    }
    i = run_end;
  }
  return changed;
}

bool ReplaceBearerTokens(std::string& s) {
  // "basic " + 8 characters at the least, and a space either way.
  if (s.size() < 14 || s.find_first_of(" \t") == npos) return false;
  bool changed = false;
  for (std::string_view scheme : {std::string_view("bearer"), std::string_view("basic")}) {
    for (size_t p = FindNoCase(s, scheme, 0); p != npos; p = FindNoCase(s, scheme, p + 1)) {
      size_t j = p + scheme.size();
      size_t spaces = j;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      if (j == spaces || IsMarkerAt(s, j)) continue;
      size_t k = j;
      while (k < s.size() && (IsAlnum(s[k]) || std::string_view("-._~+/=").find(s[k]) != npos)) ++k;
      if (k - j < 8) continue;
      s.replace(j, k - j, "[token]");
      changed = true;
    }
  }
  return changed;
}

bool ReplaceJwts(std::string& s) {
  bool changed = false;
  for (size_t p = s.find("eyJ"); p != npos; p = s.find("eyJ", p + 1)) {
    if (p > 0 && IsB64Url(s[p - 1])) continue;
    size_t j = p, dots = 0, seg_start = p;
    bool ok = true;
    while (j < s.size() && (IsB64Url(s[j]) || s[j] == '.')) {
      if (s[j] == '.') {
        if (dots == 2) break;  // "header.payload.signature." ends a sentence
        ++dots;
        if (j - seg_start < (dots == 1 ? 10u : 2u)) {
          ok = false;
          break;
        }
        seg_start = j + 1;
      }
      ++j;
    }
    if (!ok || dots != 2) continue;
    s.replace(p, j - p, "[jwt]");
    changed = true;
  }
  return changed;
}

namespace {

// Keys whose value is a secret wherever they appear: "password=...", "token: ...".
constexpr std::string_view kSecretKeys[] = {"password",   "passwd",      "pwd",       "secret",
                                            "token",      "api_key",     "apikey",    "api-key",
                                            "access_key", "private_key", "credential"};

constexpr std::string_view kSecretPrefixes[] = {
    "sk_live_", "sk_test_", "rk_live_",    "rk_test_", "ghp_",  "gho_",   "ghu_",
    "ghs_",     "ghr_",     "github_pat_", "glpat-",   "xoxb-", "xoxp-",  "xoxa-",
    "xoxr-",    "xoxs-",    "AKIA",        "ASIA",     "AIza",  "shpat_", "npm_"};

bool ReplaceKeyedSecrets(std::string& s) {
  // Every match needs a "=" or ":" after its key: most values have neither.
  if (s.find_first_of("=:") == npos) return false;
  bool changed = false;
  for (std::string_view key : kSecretKeys) {
    for (size_t p = FindNoCase(s, key, 0); p != npos; p = FindNoCase(s, key, p + 1)) {
      size_t j = p + key.size();
      if (j < s.size() && (s[j] == '"' || s[j] == '\'')) ++j;
      while (j < s.size() && s[j] == ' ') ++j;
      if (j >= s.size() || (s[j] != '=' && s[j] != ':')) continue;
      ++j;
      while (j < s.size() && s[j] == ' ') ++j;
      if (j < s.size() && (s[j] == '"' || s[j] == '\'')) ++j;
      if (IsMarkerAt(s, j)) continue;
      size_t k = j;
      while (k < s.size() && !IsSpace(s[k]) && std::string_view("&;,\"'<>)").find(s[k]) == npos)
        ++k;
      if (k == j) continue;
      s.replace(j, k - j, "[secret]");
      changed = true;
    }
  }
  return changed;
}

bool LooksLikeKey(std::string_view w) {
  for (std::string_view prefix : kSecretPrefixes) {
    if (w.size() >= prefix.size() + 8 && w.substr(0, prefix.size()) == prefix) return true;
  }
  if (w.size() < 32) return false;
  bool upper = false, lower = false, digit = false;
  for (char c : w) {
    upper |= c >= 'A' && c <= 'Z';
    lower |= c >= 'a' && c <= 'z';
    digit |= IsDigit(c);
  }
  return upper && lower && digit;
}

}  // namespace

bool ReplaceSecrets(std::string& s) {
  bool changed = ReplaceKeyedSecrets(s);
  for (size_t i = 0; i < s.size();) {
    if (!IsB64Url(s[i]) || (i > 0 && s[i - 1] == '[')) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && IsB64Url(s[j])) ++j;
    if (LooksLikeKey(std::string_view(s).substr(i, j - i))) {
      s.replace(i, j - i, "[secret]");
      i += 8;
      changed = true;
      continue;
    }
    i = j;
  }
  return changed;
}

namespace {

// Cleans the URL in [a, b) of s; returns its new end.
size_t CleanUrl(std::string& s, size_t a, size_t b, size_t authority,
                const std::function<bool(std::string_view)>& keep, bool& changed) {
  if (authority != npos) {
    size_t auth_end = s.find_first_of("/?#", authority);
    if (auth_end == npos || auth_end > b) auth_end = b;
    size_t at = s.rfind('@', auth_end - 1);
    if (at != npos && at >= authority && at < auth_end) {
      s.erase(authority, at + 1 - authority);
      b -= at + 1 - authority;
      changed = true;
    }
  }
  size_t hash = s.find('#', a);
  if (hash != npos && hash < b) {
    s.erase(hash, b - hash);
    b = hash;
    changed = true;
  }
  size_t q = s.find('?', a);
  if (q == npos || q >= b) return b;
  std::string kept;
  size_t p = q + 1;
  while (p <= b) {
    size_t amp = s.find('&', p);
    if (amp == npos || amp > b) amp = b;
    std::string_view param(s.data() + p, amp - p);
    std::string_view name = param.substr(0, param.find('='));
    if (!param.empty() && keep(name)) {
      if (!kept.empty()) kept += '&';
      kept += param;
    } else if (!param.empty()) {
      changed = true;
    }
    p = amp + 1;
  }
  std::string rebuilt = kept.empty() ? "" : "?" + kept;
  if (b - q != rebuilt.size()) changed = true;
  s.replace(q, b - q, rebuilt);
  return q + rebuilt.size();
}

bool UrlEnd(char c) { return IsSpace(c) || c == '"' || c == '\'' || c == '<' || c == '>'; }

}  // namespace

bool StripUrlSecrets(std::string& s, const std::function<bool(std::string_view)>& keep) {
  bool changed = false;
  // A value that is a path or a query of its own ("/checkout?token=..").
  if (!s.empty() && (s[0] == '/' || s[0] == '?') && s.compare(0, 2, "//") != 0) {
    size_t b = 0;
    while (b < s.size() && !UrlEnd(s[b])) ++b;
    CleanUrl(s, 0, b, npos, keep, changed);
  }
  for (size_t p = s.find("://"); p != npos; p = s.find("://", p + 1)) {
    size_t a = p;
    while (a > 0 && (IsAlnum(s[a - 1]) || s[a - 1] == '+' || s[a - 1] == '-' || s[a - 1] == '.'))
      --a;
    if (a == p) continue;
    size_t b = p + 3;
    while (b < s.size() && !UrlEnd(s[b])) ++b;
    p = CleanUrl(s, a, b, p + 3, keep, changed);
  }
  return changed;
}

}  // namespace tandem::trace::scan
