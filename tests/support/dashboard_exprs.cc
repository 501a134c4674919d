#include "tests/support/dashboard_exprs.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace tandem::testing {
namespace {

std::string Dir() { return std::string(TANDEM_SOURCE_DIR) + "/dashboards"; }

}  // namespace

std::vector<DashboardExpr> DashboardExprs() {
  std::vector<DashboardExpr> out;
  std::vector<std::filesystem::path> boards;
  for (const auto& e : std::filesystem::directory_iterator(Dir()))
    if (e.path().extension() == ".json") boards.push_back(e.path());
  std::sort(boards.begin(), boards.end());
  for (const auto& path : boards) {
    std::ifstream in(path);
    auto j = nlohmann::json::parse(in);
    for (const auto& p : j.at("panels")) {
      for (const auto& t : p.at("targets")) {
        out.push_back({DashboardExpr::Kind::kPanel,
                       path.filename().string() + ": " + p.at("title").get<std::string>(),
                       t.at("expr").get<std::string>(),
                       {}});
      }
    }
  }
  YAML::Node rules = YAML::LoadFile(Dir() + "/rules.yaml");
  for (const auto& g : rules["groups"]) {
    for (const auto& r : g["rules"]) {
      bool record = static_cast<bool>(r["record"]);
      std::string name = (record ? r["record"] : r["alert"]).as<std::string>();
      out.push_back({record ? DashboardExpr::Kind::kRecord : DashboardExpr::Kind::kAlert,
                     "rules.yaml: " + name, r["expr"].as<std::string>(), name});
    }
  }
  return out;
}

std::vector<std::string> AlertsTestedFiring() {
  std::set<std::string> out;
  YAML::Node t = YAML::LoadFile(Dir() + "/tests/rules_test.yaml");
  for (const auto& test : t["tests"])
    for (const auto& a : test["alert_rule_test"])
      if (a["exp_alerts"] && a["exp_alerts"].size() > 0)
        out.insert(a["alertname"].as<std::string>());
  return {out.begin(), out.end()};
}

std::string BoolForm(const std::string& expr) {
  std::string out;
  int braces = 0;
  char quote = 0;
  for (size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    out += c;
    if (quote) {
      if (c == '\\' && i + 1 < expr.size())
        out += expr[++i];
      else if (c == quote)
        quote = 0;
      continue;
    }
    if (c == '"' || c == '\'' || c == '`')
      quote = c;
    else if (c == '{')
      ++braces;
    else if (c == '}')
      --braces;
    else if (braces == 0) {
      char next = i + 1 < expr.size() ? expr[i + 1] : '\0';
      bool two = (c == '=' || c == '!' || c == '>' || c == '<') && next == '=';
      bool one = (c == '>' || c == '<') && next != '=';
      size_t after = i + (two ? 2 : 1);
      size_t word = expr.find_first_not_of(" \t\n", after);
      bool already = word != std::string::npos && expr.compare(word, 5, "bool ") == 0;
      if (two) out += expr[++i];
      if ((two || one) && !already) out += " bool";
    }
  }
  return out;
}

std::vector<std::string> OrArms(const std::string& expr) {
  std::vector<std::string> arms;
  std::string arm;
  int depth = 0;  // parentheses and braces
  char quote = 0;
  auto flush = [&] {
    size_t b = arm.find_first_not_of(" \t\n"), e = arm.find_last_not_of(" \t\n");
    if (b != std::string::npos) arms.push_back(arm.substr(b, e - b + 1));
    arm.clear();
  };
  for (size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'' || c == '`') {
      quote = c;
    } else if (c == '(' || c == '{' || c == '[') {
      ++depth;
    } else if (c == ')' || c == '}' || c == ']') {
      --depth;
    } else if (depth == 0 && expr.compare(i, 2, "or") == 0 && i > 0 &&
               isspace(static_cast<unsigned char>(expr[i - 1])) && i + 2 < expr.size() &&
               isspace(static_cast<unsigned char>(expr[i + 2]))) {
      flush();
      ++i;
      continue;
    }
    arm += c;
  }
  flush();
  return arms;
}

}  // namespace tandem::testing
