#include "common/yaml_reader.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace tandem {

void FailAt(const std::string& file, const YAML::Mark& mark, const std::string& msg) {
  int line = mark.is_null() ? 1 : mark.line + 1;
  int col = mark.is_null() ? 1 : mark.column + 1;
  throw ConfigError(file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + msg);
}

YamlMap::YamlMap(const YAML::Node& node, std::string file, std::string where)
    : node_(node), file_(std::move(file)), where_(std::move(where)) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    FailAt(file_, node_.Mark(),
           (where_.empty() ? std::string("document") : where_) + ": expected a mapping");
  }
}

bool YamlMap::Has(const std::string& key) const {
  return node_ && node_.IsMap() && node_[key] && !node_[key].IsNull();
}

YAML::Node YamlMap::Get(const std::string& key) const {
  if (!node_ || !node_.IsMap()) return YAML::Node();
  return node_[key];
}

void YamlMap::Fail(const YAML::Node& at, const std::string& key, const std::string& msg) const {
  FailAt(file_, at.Mark(), Path(key) + ": " + msg);
}

void YamlMap::FailAtKey(const std::string& key, const std::string& msg) const {
  if (node_ && node_.IsMap()) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.Scalar() == key) FailAt(file_, it->first.Mark(), Path(key) + ": " + msg);
    }
  }
  FailAt(file_, node_ ? node_.Mark() : YAML::Mark::null_mark(), Path(key) + ": " + msg);
}

void YamlMap::Str(const std::string& key, std::string& out, bool required) {
  used_.insert(key);
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) {
    if (required) FailAtKey(key, "is required");
    return;
  }
  if (!n.IsScalar()) Fail(n, key, "expected a string");
  out = n.Scalar();
}

void YamlMap::Bool(const std::string& key, bool& out) {
  used_.insert(key);
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return;
  bool v;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) Fail(n, key, "expected true or false");
  out = v;
}

void YamlMap::U64(const std::string& key, uint64_t& out, uint64_t min) {
  used_.insert(key);
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return;
  const std::string& s = n.IsScalar() ? n.Scalar() : std::string();
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19) {
    Fail(n, key, "expected a non-negative integer, got '" + s + "'");
  }
  uint64_t v = std::stoull(s);
  if (v < min) Fail(n, key, "must be at least " + std::to_string(min));
  out = v;
}

void YamlMap::U32(const std::string& key, uint32_t& out, uint64_t min, uint64_t max) {
  uint64_t v = out;
  U64(key, v, min);
  if (v > max) Fail(Get(key), key, "must be at most " + std::to_string(max));
  out = static_cast<uint32_t>(v);
}

void YamlMap::Double(const std::string& key, double& out, double min, double max) {
  used_.insert(key);
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return;
  double v;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || std::isnan(v)) {
    Fail(n, key, "expected a number");
  }
  if (v < min || v > max) {
    std::ostringstream msg;
    msg << "must be between " << min << " and " << max;
    Fail(n, key, msg.str());
  }
  out = v;
}

void YamlMap::Addr(const std::string& key, HostPort& out, bool required) {
  std::string s;
  Str(key, s, required);
  if (s.empty()) return;
  auto hp = HostPort::Parse(s);
  if (!hp) Fail(Get(key), key, "expected HOST:PORT, got '" + s + "'");
  out = *hp;
}

void YamlMap::StrList(const std::string& key, std::vector<std::string>& out) {
  used_.insert(key);
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return;
  if (!n.IsSequence()) Fail(n, key, "expected a list of strings");
  out.clear();
  for (const auto& item : n) {
    if (!item.IsScalar()) Fail(item, key, "expected a list of strings");
    out.push_back(item.Scalar());
  }
}

void YamlMap::Map(const std::string& key, const std::function<void(YamlMap&)>& fn, bool required) {
  used_.insert(key);
  YAML::Node n = Get(key);
  if ((!n || n.IsNull()) && required) FailAtKey(key, "is required");
  if (n && !n.IsNull() && !n.IsMap()) Fail(n, key, "expected a mapping");
  YamlMap sub(n, file_, Path(key));
  fn(sub);
  sub.Finish();
}

void YamlMap::Finish() const {
  if (!node_ || !node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (!used_.count(k)) {
      FailAt(file_, it->first.Mark(), "unknown key '" + Path(k) + "'");
    }
  }
}

}  // namespace tandem
