// Bottlenecks ranked from a run's measurements (docs/explain.md). Reads a results.json with
// watched tiers, picks the point that matters (the stress step where an SLO first broke, the knee,
// or else the highest load reached), and applies the USE method to every watched resource there:
// utilization, saturation and errors, how each grew with load since the step before, and rules
// that need no saturation (N+1 statements, slow statements, missing indexes, low hit ratios).
// Each finding carries its evidence (metric values at the point) and a concrete change.
//
// Pure: no I/O. Thread-safe.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "report/results.h"

namespace headroom::explain {

// Where the findings were measured.
struct Point {
  std::string phase;
  double rate_rps = 0;      // requested (stress step) or the phase's achieved rate
  double achieved_rps = 0;
  std::string why;          // "p99 < 50ms broke at 600/s (the knee)", "highest load reached"
  bool knee = false;        // an SLO broke here
};

struct Finding {
  std::string tier;         // tier name
  std::string source;       // source label ("process:node", "postgres:host=... password=***")
  std::string resource;     // "cpu", "memory", "connections", "locks", "statement", "index", ...
  std::string title;        // one line: what is wrong
  double severity = 0;      // ranking score: about 1 = saturated at the point
  std::optional<double> utilization;  // 0..1 where the resource has a capacity
  std::vector<std::string> evidence;  // metric values at the point, growth with load
  std::string change;       // what to change, with values
};

struct Explanation {
  Point at;
  std::optional<Point> before;    // the step before the knee (for growth with load)
  std::vector<Finding> findings;  // most severe first
  // Set when nothing watched was saturated at the point: where else the limit may be.
  std::string elsewhere;
  int tiers_watched = 0;
};

// REQUIRES: a parsed results.json (schema headroom.results/N). Errors: not a results file, no
// phase with measurements.
Result<Explanation> Explain(const nlohmann::json& results);

// The same from a run's results in memory; nullopt when no tier was watched (nothing to rank) or
// the run has no phase.
std::optional<Explanation> ExplainRun(const report::Results& results);

std::string Text(const Explanation& e);      // terminal
std::string Markdown(const Explanation& e);  // summary.md section / headroom explain --markdown
nlohmann::ordered_json ToJson(const Explanation& e);

}  // namespace headroom::explain
