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

#include <map>
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
  int step = -1;            // index in the phase's stress.curve[]; -1 when the point is a whole phase
  std::optional<double> p95_us, p99_us;  // response time at the point, when results.json has it
};

// One watched source at the point: the window mean of each of its metrics (docs/collect.md).
struct Reading {
  std::string tier;       // tier name in the run (scenario `tiers:` or --watch label)
  std::string tier_kind;  // the run's kind for the tier: app, database, cache, host, ...
  std::string source;     // source label
  std::string kind;       // host, process, postgres, redis, prometheus
  std::map<std::string, double> mean;
  // postgres statements / redis commands: time / calls summed over the top activities, in ms.
  std::optional<double> activity_mean_ms;
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
  // Where the finding sits between cause and effect: 2 a specific cause (an index, an evicting
  // cache, an exhausted connection pool...), 1 a queue in front of something slower (request
  // threads waiting on I/O), 0 a busy resource (host CPU, memory, disk; a process's CPU). A finding
  // ranks below one of a higher level with severity >= 0.85 found in the same run, and names it.
  int level = 2;
};

struct Explanation {
  Point at;
  std::optional<Point> before;    // the step before the knee (for growth with load)
  std::vector<Finding> findings;  // most severe first
  // Set when nothing watched was saturated at the point: where else the limit may be.
  std::string elsewhere;
  int tiers_watched = 0;
  std::vector<Reading> readings;  // every watched source at the point, in results.json order
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

// ---------------------------------------------------------------------------------------------
// Before and after: two runs' results.json side by side (headroom compare): capacity, latency at
// the same rates, error rate, each watched tier's headline metrics and every SLO's verdict, with
// the change in percent.
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
