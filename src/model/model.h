// Capacity models: the Universal Scalability Law (USL) fitted to measured throughput, and the
// M/M/c queue (Erlang C) for waiting time and response-time percentiles. Also a defensive reader
// for the parts of results.json (any "headroom.results/N" schema; a file without a schema key is
// read too) that the models and the planner use.
//
// All functions are pure (no shared state) and thread-safe. Units: throughput and arrival rates in
// requests per second (or any consistent "per time unit"), times in the same time unit as the
// rate's reciprocal (queue functions are unit-agnostic: pass a rate per minute and a service time
// in minutes and you get minutes back). Expected failures come back as Result/Status values.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace headroom::model {

// ---------------------------------------------------------------------------------------------
// Universal Scalability Law: X(N) = lambda*N / (1 + sigma*(N-1) + kappa*N*(N-1)).

struct UslPoint {
  double concurrency = 0;  // N: virtual users, connections, threads or nodes (> 0)
  double throughput = 0;   // X(N): completed work per second (>= 0)
};

enum class UslBound {
  kLinear,      // sigma*(N-1) + kappa*N*(N-1) < 0.01 at the largest measured N: still linear
  kContention,  // no peak within 2x the measured range: throughput flattens (towards lambda/sigma)
  kCoherency,   // the peak N* lies within 2x the largest measured N: more load soon lowers X
};

struct UslFit {
  double sigma = 0;   // contention (serial fraction), in [0, 1]
  double kappa = 0;   // coherency (crosstalk) penalty, in [0, 1]
  double lambda = 0;  // throughput of one unit of concurrency without contention (X(1) ideal)
  // N* = sqrt((1 - sigma) / kappa); empty when kappa == 0 (no peak: throughput only flattens).
  std::optional<double> peak_concurrency;
  // X(N*) when there is a peak, otherwise the asymptote lambda / sigma (empty if sigma == 0 too).
  std::optional<double> peak_throughput;
  double r2 = 0;  // coefficient of determination of the fit on the given points
  UslBound bound = UslBound::kLinear;
  double max_measured_concurrency = 0;  // the largest N among the input points
};

// X(N) for the given coefficients.
double UslThroughput(const UslFit& fit, double concurrency);

// Fits sigma, kappa (bounded to [0,1]) and lambda (> 0) by nonlinear least squares on the absolute
// throughput residuals. REQUIRES: at least 3 points with distinct concurrency; every
// concurrency > 0 and throughput >= 0. Deterministic: same points, same fit.
Result<UslFit> FitUsl(std::span<const UslPoint> points);

// "linear", "contention", "coherency".
std::string_view UslBoundName(UslBound bound);

// Reads a CSV of "concurrency,throughput" rows. A first line that is not numeric is taken as a
// header; blank lines and lines starting with '#' are skipped. Errors name file:line.
Result<std::vector<UslPoint>> ReadUslCsv(const std::string& path);

// ---------------------------------------------------------------------------------------------
// M/M/c queue (Erlang C), computed through the Erlang B recursion so that large c stays stable.

struct MmcInput {
  int servers = 1;            // c >= 1
  double arrival_rate = 0;    // lambda >= 0, arrivals per time unit
  double service_time = 0;    // S > 0, mean service time in time units (mu = 1/S)
};

struct MmcResult {
  double utilization = 0;       // rho = lambda*S/c, < 1 for a stable queue
  double wait_probability = 0;  // Erlang C: P(an arrival waits)
  double wait_mean = 0;         // mean time in queue
  double response_mean = 0;     // mean time in system = wait_mean + S
  double response_p95 = 0;      // 95th percentile of time in system
  double response_p99 = 0;      // 99th percentile of time in system
};

// Fails when the input is out of range or the queue is unstable (rho >= 1).
Result<MmcResult> SolveMmc(const MmcInput& input);

// Erlang B blocking probability for c servers and offered load a = lambda*S (Erlangs).
double ErlangB(int servers, double offered_load);
// Erlang C waiting probability; 1 when offered_load >= servers.
double ErlangC(int servers, double offered_load);
// P(time in system > t) for a stable M/M/c queue.
double MmcResponseTail(const MmcInput& input, double t);
// The same with the Erlang C waiting probability already known (ErlangC(servers, lambda*S)), for
// loops that evaluate many tails at one utilization: O(1) instead of O(servers).
double MmcResponseTailGivenWait(const MmcInput& input, double wait_probability, double t);
// The q-quantile (0 < q < 1) of the time in system of a stable M/M/c queue.
double MmcResponseQuantile(const MmcInput& input, double q);

// The highest utilization rho in (0, 1) at which c servers with mean service time S keep the
// q-quantile of time in system at or below `target` (same time unit as S). Returns 0 when even an
// idle system misses the target (S itself is too slow). Precision: 1e-4 in rho.
double MaxUtilizationForQuantile(int servers, double service_time, double quantile, double target);

// ---------------------------------------------------------------------------------------------
// results.json ("headroom.results/N", any N; the schema key may be missing): only the fields the
// models and planner read.

struct CurvePoint {
  double rate_rps = 0;      // offered (target) rate of the step
  double achieved_rps = 0;  // completed requests per second at that step
  double p95_us = 0;        // 0 when absent
  double error_rate = 0;    // 0..1, 0 when absent
};

struct ResultsSummary {
  std::string source;                      // the file the figures came from
  std::optional<double> capacity_rps;      // phases[].stress.capacity_rps (largest found)
  std::optional<double> achieved_rps;      // throughput.achieved_rps of a plain run
  std::optional<double> p95_us;            // latency.response_time_us.p95 of a plain run
  std::vector<CurvePoint> curve;           // phases[].stress.curve[] of the stress phase used
  std::string capacity_field;              // JSON path of the capacity figure, for provenance
  int interrupted_points = 0;              // curve points cut short (`interrupted: true`), left out
  // One line for stderr when the figures may not be the whole story: the run was interrupted
  // (`interrupted: true`), the file is a checkpoint (`complete: false`), or points were left out.
  // Empty otherwise.
  std::string warning;
};

// Reads results.json defensively: unknown fields are ignored, missing ones stay empty. Fails only
// when the file cannot be read, is not JSON, or carries none of the fields above.
Result<ResultsSummary> ReadResultsSummary(const std::string& path);
// The same, from text already in memory (`source` names it in messages).
Result<ResultsSummary> ParseResultsSummary(std::string_view json_text, const std::string& source);

// USL points from a stress curve: N is the offered rate step (rate_rps), X the achieved rate.
std::vector<UslPoint> CurveToUslPoints(const std::vector<CurvePoint>& curve);

}  // namespace headroom::model
