// Strict reading of YAML maps into typed values: every key must be consumed,
// every error names FILE:LINE:COLUMN and the key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"

namespace tandem {

class YamlMap {
 public:
  // `where` is the dotted key path of this map, used in messages.
  YamlMap(const YAML::Node& node, std::string file, std::string where);

  bool Has(const std::string& key) const;
  YAML::Node Get(const std::string& key) const;

  void Str(const std::string& key, std::string& out, bool required = false);
  void Bool(const std::string& key, bool& out);
  void U32(const std::string& key, uint32_t& out, uint64_t min = 0, uint64_t max = UINT32_MAX);
  void U64(const std::string& key, uint64_t& out, uint64_t min = 0);
  void Double(const std::string& key, double& out, double min, double max);
  void Addr(const std::string& key, HostPort& out, bool required = false);
  void StrList(const std::string& key, std::vector<std::string>& out);
  void Map(const std::string& key, const std::function<void(YamlMap&)>& fn, bool required = false);
  // Marks a key as read by the caller itself.
  void Consume(const std::string& key) { used_.insert(key); }
  // Rejects every key nobody asked for.
  void Finish() const;

  [[noreturn]] void Fail(const YAML::Node& at, const std::string& key,
                         const std::string& msg) const;
  [[noreturn]] void FailAtKey(const std::string& key, const std::string& msg) const;
  std::string Path(const std::string& key) const {
    return where_.empty() ? key : where_ + "." + key;
  }
  const std::string& file() const { return file_; }

 private:
  YAML::Node node_;
  std::string file_;
  std::string where_;
  std::set<std::string> used_;
};

[[noreturn]] void FailAt(const std::string& file, const YAML::Mark& mark, const std::string& msg);

}  // namespace tandem
