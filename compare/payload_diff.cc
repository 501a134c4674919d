#include "compare/payload_diff.h"

#include <nlohmann/json.hpp>

namespace tandem::compare {
namespace {

using json = nlohmann::json;
constexpr size_t kMaxValueChars = 200;  // an example, not the whole value

std::string Text(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMaxValueChars) s = s.substr(0, kMaxValueChars) + "...";
  return s;
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

void Diff(const json& a, const json& b, const std::string& path, size_t limit,
          std::vector<FieldChange>& out) {
  if (out.size() >= limit) return;
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items()) {
      if (out.size() >= limit) return;
      auto it = b.find(k);
      if (it == b.end()) {
        out.push_back({Join(path, k), "removed", Text(v), ""});
      } else {
        Diff(v, *it, Join(path, k), limit, out);
      }
    }
    for (const auto& [k, v] : b.items()) {
      if (out.size() >= limit) return;
      if (!a.contains(k)) out.push_back({Join(path, k), "added", "", Text(v)});
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n && out.size() < limit; ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      if (i >= b.size()) {
        out.push_back({p, "removed", Text(a[i]), ""});
      } else if (i >= a.size()) {
        out.push_back({p, "added", "", Text(b[i])});
      } else {
        Diff(a[i], b[i], p, limit, out);
      }
    }
    return;
  }
  if (a != b) out.push_back({path.empty() ? "(payload)" : path, "changed", Text(a), Text(b)});
}

}  // namespace

std::vector<FieldChange> DiffPayloads(const std::string& live, const std::string& candidate,
                                      size_t limit) {
  std::vector<FieldChange> out;
  json a = json::parse(live, nullptr, false), b = json::parse(candidate, nullptr, false);
  if (a.is_discarded() || b.is_discarded()) {
    if (live != candidate) {
      auto cut = [](const std::string& s) {
        return s.size() > kMaxValueChars ? s.substr(0, kMaxValueChars) + "..." : s;
      };
      out.push_back({"(payload)", "changed", cut(live), cut(candidate)});
    }
    return out;
  }
  Diff(a, b, "", limit, out);
  return out;
}

}  // namespace tandem::compare
