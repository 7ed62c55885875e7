// Private to src/plan: the tier model behind BuildPlan. A Config is one candidate set of remedies
// and unit counts; Loads is the work each tier sees at a required rate under a Config; Rows turns
// both into utilization with targets and the formulas that produced them.
//
// Not thread-safe: Model memoizes queue computations. Rates are per second, times in ms.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "plan/plan.h"

namespace headroom::plan {

struct TierState {
  bool present = false;
  int units = 0;     // nodes (database: primaries = shards)
  int step = 0;      // vertical steps
  int replicas = 0;  // database: read replicas in total
  int max_units = 0; // autoscaled tiers: units at the flash-sale rate (the HPA maximum); else 0
};

// Above this many units of one tier a configuration is not feasible (and counts stay in int).
inline constexpr int kMaxUnits = 10000;
// Phases beyond this multiple of today's peak are refused (plan files and BuildPlan alike).
inline constexpr double kMaxMultiplier = 100000;

struct Config {
  std::vector<bool> enabled;     // parallel to PlanInput::remedies
  std::vector<TierState> tiers;  // parallel to Model::tiers
  bool feasible = true;
  double objective = 0;          // monthly cost + amortized effort
};

class Model {
 public:
  explicit Model(const PlanInput& input);

  const PlanInput& in;
  std::vector<TierSpec> tiers;  // declared tiers, then those remedies may add (absent at first)
  int app = -1, db = -1, cache = -1, cdn = -1, queue = -1, workers = -1;

  int RemedyIndex(const std::string& id) const;  // -1 when absent or disabled
  bool Has(const Config& c, const std::string& id) const;
  const Remedy* Find(const std::string& id) const;
  double Param(const std::string& id, const std::string& key, double fallback) const;

  // Vertical scaling factors at `step` (1 at step 0).
  double CapacityFactor(int step) const;
  double CostFactor(int step) const;
  int MaxStep(const Config& c) const;
  int MaxStep(const Config& c, int tier) const;  // 0 when vertical_scaling excludes the tier
  // Months until the multiple `required_rps` / (peak x safety) is reached; 0 at or below 1x,
  // infinite without growth.
  double MonthOf(double required_rps) const;

  // Highest utilization for `tier` with `servers` parallel servers in total, and where it comes
  // from ("ceiling 85 %" or "M/M/c p95 <= 150ms"). 0 when the latency budget is unreachable.
  Figure Target(int tier, int servers_per_group, double service_ms) const;
  double CeilingOf(int tier) const;
  std::optional<double> BudgetMsOf(int tier) const;  // latency budget used by Target
  double QueriesPerRequest() const;

  // Today's configuration: declared counts, remedies already in place.
  Config Today() const;

  // The app scales horizontally (stateless, or sessions externalized) and is then autoscaled;
  // workers are always autoscaled on their queue.
  bool AppScalable(const Config& c) const;
  bool Autoscaled(const Config& c, int tier) const;
  // The rate every tier that does not autoscale is sized for: the required rate or the flash-sale
  // rate (required / safety x flash_sale), whichever is higher.
  double SizingRps(double required_rps) const;
  // An autoscaled tier's target: `base` lowered so that the load can keep rising while new units
  // start: base / (1 + (startup + 30s) x rise per second), rise = 90 % of the load per gate ramp.
  Figure AutoscaleTarget(int tier, const Figure& base) const;
  // The target rows and sizing use for `tier` at vertical step `step`.
  Figure TierTarget(const Config& c, int tier, int step) const;

 private:
  mutable std::map<std::tuple<int, double, double>, double> target_memo_;
};

struct Loads {
  double required_rps = 0;
  double cdn_rps = 0;         // requests reaching the CDN
  double app_rps = 0;         // requests reaching the app tier
  double db_reads_raw = 0;    // reads before the cache
  double cache_lookups = 0;
  double cache_hits = 0;
  double db_reads = 0;        // reads reaching the database
  double writes = 0;          // write statements
  double deferred = 0;        // writes moved to the queue
  double primary_reads = 0;   // in total over all primaries
  double primary_writes = 0;  // in total, after batching
  double replica_reads = 0;
  double jobs = 0;            // jobs/s for queue and workers
  double hit_ratio = 0, edge_hit = 0, read_factor = 1;
  std::string app_formula, reads_formula, writes_formula, jobs_formula;
  struct Stream {  // one of PlanInput::workloads at this rate (before any cache or batching)
    double rps = 0, db_reads = 0, writes = 0, jobs = 0;
  };
  std::vector<Stream> streams;  // parallel to PlanInput::workloads
};

// A workload's rate at `required_rps` of the main traffic: today's rate x safety x m^share, with
// m = required / (peak x safety) and share = ln(1 + its growth) / ln(1 + traffic growth), so it
// reaches rate x (1 + growth)^month in the month the main traffic reaches m (share 1 without
// its own growth).
double StreamRps(const Model& m, double rate_today, const std::optional<double>& growth,
                 double required_rps);

Loads ComputeLoads(const Model& m, const Config& c, double required_rps);

// Rows of every present tier; `c` must give units for every present tier.
std::vector<LoadRow> Rows(const Model& m, const Config& c, const Loads& l);
// The row of `tier` with `role` ("" for a simple tier), or nullptr.
const LoadRow* FindRow(const std::vector<LoadRow>& rows, const std::string& tier,
                       const std::string& role);

// Sizes every tier for `required_rps` with the remedies in `enabled`, never below `floor`.
// Returns an infeasible Config (feasible=false) when no sizing within limits fits.
Config Size(const Model& m, const std::vector<bool>& enabled, double required_rps,
            const Config& floor);

// Monthly cost of the configuration, per tier (present tiers) and in total with remedy costs.
std::vector<TierUnits> CostTiers(const Model& m, const Config& c);
double MonthlyCost(const Model& m, const Config& c);
double RemedyMonthlyCost(const Model& m, const Config& c);

// The cheapest Config that meets every target at `required_rps`, keeping what `floor` has.
Config Choose(const Model& m, double required_rps, const Config& floor);

// The configuration for `to_rps`, reached from `from` (the configuration for `from_rps`) through
// fixed demand levels 2^(k/4) req/s: remedies are chosen at each level with the previous level as
// the floor, and a rate between two levels is sized with the remedies of the level above it. So
// the monthly cost never falls as demand grows, within a plan and between plans.
Config Advance(const Model& m, const Config& from, double from_rps, double to_rps);
// The highest rate in (from_rps, to_rps] whose configuration on that path costs at most
// `budget`, scanning upward and stopping at the first level over it; from_rps when none.
double CoveredRps(const Model& m, const Config& from, double from_rps, double to_rps,
                  double budget);

// Rows at the flash-sale rate: tiers that do not autoscale as configured, autoscaled ones at
// their maximum.
std::vector<LoadRow> FlashRows(const Model& m, const Config& c, double required_rps);

// Turns each tier's measurement (PlanInput::measured, TierSpec::measured) into its capacity per
// unit: the tier's load when the app serves the point's rate (today's configuration, main traffic
// only) / the utilization / its units. A used measurement replaces capacity_rps (and a database's
// write capacity, see measured.cc); notes go to RunMeasurement::notes. Returns, by tier index, why
// a tier without a declared capacity got none. Tiers already resolved are left alone.
std::map<size_t, std::string> ResolveMeasured(PlanInput& in);

// Filling the per-phase sections (sections.cc, alerts.cc, gate.cc).
void FillSections(const Model& m, const Config& c, const Loads& l, PhaseResult& phase);
void FillAutoscaling(const Model& m, const Config& c, const Loads& l, PhaseResult& phase);
void FillAlerts(const Model& m, const Config& c, PhaseResult& phase);
// Settings per change and the load-test plan (settings.cc); after FillAutoscaling.
void FillSettings(const Model& m, const Config& c, const Loads& l, PhaseResult& phase);
void FillLoadTest(const Model& m, const Config& c, const Loads& l, PhaseResult& phase);
// Stage by users, premature remedies and the readiness checklist (stage.cc); last.
void FillStage(const Model& m, const Config& c, PhaseResult& phase);
// External APIs with rate limits: demand against the limit and the client settings (dependencies.cc).
void FillDependencies(const Model& m, const Loads& l, PhaseResult& phase);
// The main traffic and each workload at the phase, split out of `l` (workloads.cc).
void FillWorkloads(const Model& m, const Loads& l, PhaseResult& phase);
std::string GateYaml(const PlanInput& in, const PhaseResult& phase);
std::string StressYaml(const PlanInput& in, const PhaseResult& phase);  // the 3x stress step
std::string ChaosYaml(const PlanInput& in, const PhaseResult& phase);   // the chaos steps
std::string HpaYaml(const PlanInput& in, const PhaseResult& phase);
std::string RulesYaml(const PlanInput& in, const PhaseResult& phase);
std::string MarkdownPlan(const PlanOutput& plan);
std::string JsonPlan(const PlanOutput& plan);

// Formatting shared by the writers: 12345.6 -> "12,346", 0.853 -> "85.3 %", 3.0 -> "3".
std::string Num(double v);
std::string Pct(double fraction);
std::string Money(const PlanInput& in, double amount);
std::string PhaseLabel(double multiplier);  // 2 -> "2x", 1.5 -> "1.5x"
std::string PhaseDir(double multiplier);    // artifacts directory name: "2x"
// How a tier's capacity figure is known: "measured" (a --results run, `capacity: results`, the
// demo), "declared" (the plan file) or "catalogue" (a tier a remedy adds). plan.md and plan.json
// mark every capacity and latency figure with these words.
std::string CapacityBasis(const TierSpec& t);
std::string WriteCapacityBasis(const TierSpec& t);
// "phase limit step 4 at 1,190 req/s" (step 1-based, only for a stress step).
std::string PointText(const MeasuredPoint& p);

// Names for other systems: a DNS-1123 label (Kubernetes names, Prometheus `job`): lowercase
// ASCII letters, digits and '-', at most 63; "Bestellungen API ü" -> "bestellungen-api".
std::string DnsLabel(const std::string& name);
// A Prometheus alert-name part in PascalCase from ASCII letters and digits: "db 'main'" -> "DbMain".
std::string PromName(const std::string& name);
// One word for a POSIX shell, single-quoted.
std::string ShellQuote(const std::string& word);

}  // namespace headroom::plan
