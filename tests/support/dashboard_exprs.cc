#include "tests/support/dashboard_exprs.h"

#include <yaml-cpp/yaml.h>

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
      if (r["record"]) {
        std::string name = r["record"].as<std::string>();
        out.push_back({DashboardExpr::Kind::kRecord, "rules.yaml: " + name,
                       r["expr"].as<std::string>(), name});
      } else {
        out.push_back({DashboardExpr::Kind::kAlert,
                       "rules.yaml: " + r["alert"].as<std::string>(),
                       r["expr"].as<std::string>(),
                       {}});
      }
    }
  }
  return out;
}

std::vector<std::string> AlertNames() {
  std::vector<std::string> out;
  YAML::Node rules = YAML::LoadFile(Dir() + "/rules.yaml");
  for (const auto& g : rules["groups"])
    for (const auto& r : g["rules"])
      if (r["alert"]) out.push_back(r["alert"].as<std::string>());
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
      if (two) {
        out += expr[++i];
        out += " bool";
      } else if (one) {
        out += " bool";
      }
    }
  }
  return out;
}

}  // namespace tandem::testing
