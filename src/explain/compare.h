// Before and after: two runs' results.json side by side (docs/explain.md, "compare"): capacity,
// latency at the same rates, error rate, each watched tier's headline metrics and every SLO's
// verdict, with the change in percent. Pure; thread-safe.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace headroom::explain {

// One figure in both runs. `lower_is_better` decides whether a rise is a regression.
struct Delta {
  std::string what;    // "capacity (req/s)", "p95 at 400/s", "db statement_mean_ms"
  std::optional<double> before, after;
  std::string unit;    // "req/s", "us", "%", "" (shown after the numbers)
  bool lower_is_better = true;
  // (after - before) / before; nullopt when either is missing or before is 0.
  std::optional<double> change() const;
  bool regressed(double tolerance) const;  // worse by more than `tolerance` (a fraction)
};

struct SloChange {
  std::string phase;
  std::string expr;
  std::optional<bool> before, after;  // nullopt: the SLO did not apply in that run
};

struct Comparison {
  std::string before_name, after_name;  // as given on the command line
  std::vector<Delta> deltas;
  std::vector<SloChange> slos;
};

// REQUIRES: both parsed results.json documents. Errors: either is not a headroom results file.
Result<Comparison> Compare(const nlohmann::json& before, const nlohmann::json& after, std::string before_name,
                           std::string after_name);

std::string CompareText(const Comparison& c);
std::string CompareMarkdown(const Comparison& c);
nlohmann::ordered_json CompareJson(const Comparison& c);

}  // namespace headroom::explain
