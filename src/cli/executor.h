// Runs a list of phases (from a scenario file, or the single phase of a plain `headroom run URL`)
// on the engine, one engine run per phase (per step for stress), and turns them into the results
// model: per-phase SLO verdicts, stress capacity and curve, spike recovery, soak drift,
// abort-on-fail, periodic checkpoints of results.json, and SIGINT handling.
// This is wiring (engine + scenario + slo + report), which is why it lives in cli.
#pragma once
#include <string>
#include <vector>

#include "engine/engine.h"
#include "report/results.h"
#include "scenario/scenario.h"
#include "slo/slo.h"

namespace headroom::cli {

struct ExecPlan {
  std::string target;    // shown in outputs
  std::string scenario;  // scenario name; "" for a plain URL run
  std::string method = "GET";
  sys::Address address;
  const engine::RequestSource* source = nullptr;  // REQUIRES: outlives Execute
  std::vector<scenario::Phase> phases;
  std::vector<scenario::SloSpec> slos;  // apply to every phase
  scenario::AbortOnFail abort_on_fail;
  int threads = 1;
  int64_t timeout_ns = 10'000'000'000;
  uint64_t seed = 1;
  std::string out_dir;   // "" = write nothing; else results.json (+ checkpoints every 10 s) and friends
  bool live = true;      // progress line on a terminal
};

// Runs every phase in order. Errors are set-up problems only (bad SLO text, engine start failure).
Result<report::Results> Execute(const ExecPlan& plan);

// Parses the SLOs that apply to a phase (top-level + the phase's own), request prefixes kept.
Result<std::vector<slo::Objective>> PhaseObjectives(const std::vector<scenario::SloSpec>& top,
                                                    const scenario::Phase& phase);

// Writes DIR/results.json, series.csv, junit.xml and summary.md (results.hlog is streamed by Execute).
Status WriteAllOutputs(const report::Results& results, const std::string& dir);

}  // namespace headroom::cli
