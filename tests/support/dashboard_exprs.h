// Every PromQL expression in dashboards/: the Grafana panels' targets, the
// recording rules and the alert rules, for the tests that check them against
// what the services export and against a real Prometheus.
#pragma once

#include <string>
#include <vector>

namespace tandem::testing {

struct DashboardExpr {
  enum class Kind { kPanel, kRecord, kAlert };
  Kind kind;
  std::string where;  // "tandem-drift.json: Verdict", "rules.yaml: TandemSpoolGrowing"
  std::string expr;
  std::string name;  // the recorded series or the alert; empty for panels
};

// Reads dashboards/*.json and dashboards/rules.yaml from the source tree.
std::vector<DashboardExpr> DashboardExprs();

// The alerts rules_test.yaml expects to fire.
std::vector<std::string> AlertsTestedFiring();

// `expr` with every comparison turned into its `bool` form, so an alert's
// expression yields its series (0 or 1) on a healthy stack instead of nothing.
// A comparison already in bool form is left as it is.
std::string BoolForm(const std::string& expr);

// The arms of a top-level `a or b or c` (just `expr` when there is no `or`), so
// each arm can be shown to meet real series on its own.
std::vector<std::string> OrArms(const std::string& expr);

}  // namespace tandem::testing
