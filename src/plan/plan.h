// Capacity planning: from measured or declared capacity and stated growth to a phased roadmap
// (default 1x, 2x, 10x, 100x of today's peak) with the cheapest set of remedies per phase, its
// cost, and the artifacts that enforce it (HPA manifests, Prometheus rules, load-test gates).
//
// Flow: LoadPlanFile (plan.yaml -> PlanInput, every error as file:line:col) or DemoPlanInput ->
// BuildPlan (pure computation) -> WritePlan (plan.md, plan.json, artifacts/). All functions are
// thread-compatible and keep no global state. Rates are per second, times in the unit their name
// says, money in the plan's currency per month unless the name says otherwise.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace headroom::plan {

// ---------------------------------------------------------------------------------------------
// Input

enum class TierKind { kApp, kCache, kDatabase, kQueue, kWorkers, kCdn };
enum class Resource { kCpu, kMemory, kIo, kNetwork, kConnections, kWrites };
enum class Sessions { kNone, kExternal, kSticky, kMemory };  // where app session state lives

// A tier a `--results` run watched, read at the run's point (docs/plan.md, "Measured tiers").
struct WatchedTier {
  std::string name, kind;       // the run's tier name and kind (scenario `tiers:` or --watch)
  std::string resource;         // its scarcest resource: cpu, disk, connections, memory, ...
  std::optional<double> utilization;  // of that resource at the point (0..1); nullopt: none usable
  std::string evidence;         // the metric behind it: "process:postgres cpu_ratio 38 %"
  std::string why_not;          // when no utilization: why
  std::optional<double> latency_ms;  // at the point (app: p95; database, cache: mean per operation)
  std::string latency_metric;        // where it came from
  std::optional<double> work_per_s;  // operations the run counted: redis ops_per_s, postgres statements/s
  std::string work_metric;
};

// What the run measured for one tier of the plan, and the capacity that implies.
struct TierMeasurement {
  WatchedTier watched;
  double achieved_rps = 0;      // requests/s the run achieved at the point
  // Filled when the capacity is resolved from the measurement (src/plan/measured.cc):
  double load = 0;              // the tier's work at achieved_rps in the plan's unit, all units
  std::string load_unit;        // req/s, queries/s, ops/s, ...
  std::string load_formula;
  double capacity_rps = 0;      // per unit at 100 %: load / utilization / units
  bool lower_bound = false;     // utilization below kMinMeasuredUtilization: capacity is at least this
  bool used = false;            // the measured capacity replaced the plan file's
  std::optional<double> declared_rps;  // what the plan file gave, if anything
  std::string declared_source;         // "declared", or the results.json field of `capacity: results`
  std::optional<double> latency_budget_ms;  // the tier's budget in the plan, beside the latency
};

// Below this utilization a run did not load the tier enough to measure its capacity: a declared
// capacity is kept, otherwise the capacity is a lower bound (load / 5 %).
inline constexpr double kMinMeasuredUtilization = 0.05;

struct TierSpec {
  std::string name;
  TierKind kind = TierKind::kApp;
  int count = 1;               // units today (database: primaries; cdn/queue/workers: nodes)
  double capacity_rps = 0;     // per unit at 100 % of its limiting resource: app/cdn requests/s,
                               // cache ops/s, database read queries/s, queue messages/s, workers jobs/s
  std::string capacity_source = "declared";  // where capacity_rps came from (results.json path)
  bool capacity_measured = false;  // capacity_rps came from a measurement (--results, demo)
  std::optional<TierMeasurement> measured;  // what --results measured for this tier, if anything
  double write_capacity_rps = 0;  // database only: write statements/s per primary
  std::string write_capacity_source = "declared";
  int concurrency = 8;            // requests one unit serves in parallel (threads, cores)
  double unit_cost = 0;           // per unit per month
  Resource limited_by = Resource::kCpu;
  std::optional<double> max_utilization;    // hard ceiling (0..1); default by kind
  std::optional<double> latency_budget_ms;  // p95 time one unit of work may take on this tier
  int connections_per_unit = 0;  // app: database connections each unit holds open
  int max_connections = 0;       // database: max_connections of one primary or replica
  int replicas = 0;              // database: read replicas today
  double hit_ratio = 0;          // cache: hit ratio today (0..1)
  Sessions sessions = Sessions::kNone;   // app only
  std::vector<std::string> local_state;  // app: instance-local state (uploads, cron, ...)
  double startup_s = 60;                 // time for a new unit to take traffic
  std::string runtime;                   // app: node, python, ruby, php, jvm, go, dotnet, other
  bool added_by_remedy = false;          // true when a remedy's adds_tier created it
};

struct TrafficSpec {
  double peak_rps = 0;            // today's peak request rate
  std::string peak_source = "declared";
  double dau = 0;                 // daily active users today
  double concurrent_users = 0;    // concurrent users at peak today
  double growth_monthly = 0;      // 0.3 = +30 % per month
  std::optional<double> dau_growth_monthly;  // DAU growth when it differs from the request rate's
  std::string growth_source;      // "" when declared; the milestone it was derived from
  double daily_peak_factor = 3;   // peak hour rate / daily average rate
  double flash_sale_multiple = 1; // flash-sale rate / normal peak rate
};

struct SloSpec {
  double p95_ms = 0;
  std::optional<double> p99_ms;
  double availability = 0.999;  // 0.999 = 99.9 %
  double error_rate = 0.01;     // 0.005 = 0.5 %
  std::optional<double> job_delay_s;  // background jobs must start within this
};

struct WorkloadSpec {
  double read_share = 0.9;        // share of requests that only read
  double queries_per_read = 1;    // database queries per read request
  double reads_per_write = 1;     // database reads per write request
  double writes_per_write = 1;    // database write statements per write request
  double cacheable_reads = 0;     // share of database reads a cache can answer
  double edge_cacheable = 0;      // share of requests a CDN can answer
  double deferrable_writes = 0;   // share of writes that may happen asynchronously
  double strong_reads = 0.1;      // share of reads that must see the primary
  double jobs_per_request = 0;    // background jobs enqueued per request
  double freshness_s = 60;        // how stale cached data may be
  int functional_domains = 1;     // independent domains the schema splits into
  double cache_item_bytes = 2048; // average size of one cached value (Redis maxmemory)
  struct PeriodicJobs {           // a batch enqueued every `every_s` (ranking, sync, reports)
    std::string name;
    double every_s = 900, jobs = 0, delay_s = 300;  // jobs per batch today; all done within delay
  };
  std::vector<PeriodicJobs> periodic;
};

// A workload besides the main request traffic (traffic.peak with `workload`): another API, data
// ingestion, or periodic background jobs, each with its own rate, growth and SLO.
enum class StreamKind { kApi, kIngestion, kPeriodic };
struct WorkloadStream {
  std::string name;
  StreamKind kind = StreamKind::kApi;
  double rate_rps = 0;                   // api, ingestion: today's peak requests (events)/s
  std::optional<double> growth_monthly;  // its own growth; default traffic.growth
  double read_share = 0;                 // api: default workload.read_share; ingestion: 0
  double writes_per_request = 1;         // write statements per write request
  double jobs_per_request = 0;           // background jobs enqueued per request
  std::string method = "GET", path = "/";  // what the gates send for it
  std::optional<double> p95_ms;          // api, ingestion: its p95 objective
  double every_s = 0, jobs = 0;          // periodic: a batch of `jobs` every `every_s`
  double delay_s = 0;                    // periodic: the batch's job-delay SLO (default every_s)
};

struct Remedy {
  std::string id;                  // known to the planner (see docs/plan.md)
  std::string name;
  int order = 0;                   // ladder position: lower is applied first
  std::string relieves;            // one line: what it relieves
  std::map<std::string, double> effect;  // id-specific parameters
  double effort_days = 0;          // one-time engineering effort
  double monthly_cost = 0;         // running cost it adds
  std::vector<std::string> requires_ids;
  std::string guidance;            // how to do it
  std::vector<TierSpec> adds_tiers;  // tiers it introduces when absent
  bool disabled = false;
  double not_before_month = 0;     // not chosen for demand reached before this month
  double phase = 0;                // pinned: in force from this phase (a multiple) on, never before
  std::vector<std::string> tiers;  // vertical_scaling: only these tiers (empty: any)
};

struct GateSpec {
  std::string target = "${TARGET_URL:-http://127.0.0.1:8080}";
  std::string requests_yaml;  // YAML sequence copied into gates; empty: a generated read/write mix
  double ramp_s = 300, soak_s = 1800, spike_hold_s = 120, spike_s = 600;
};

// Generic alert thresholds (warning, critical) for what the plan does not derive from its own
// targets; the defaults are those monitoring guides commonly recommend.
struct AlertDefaults {
  double p50_ms[2] = {200, 500};
  double p99_ms[2] = {1000, 3000};
  double error_rate[2] = {0.005, 0.02};
  double cpu[2] = {0.7, 0.9};      // sustained (15 minutes), beside the planned-target alerts
  double memory[2] = {0.8, 0.9};
  double db_pool[2] = {0.7, 0.9};  // connections in use / pool size
  double disk[2] = {0.75, 0.9};
  double queue_depth[2] = {1000, 10000};
  double job_latency_s[2] = {30, 300};  // used when slos.job_delay is not set
};

// ---------------------------------------------------------------------------------------------
// Simulation inputs (read from the plan file for `headroom simulate`; the planner ignores them).

// A traffic event: "flash-sale day 2 18:00 6x for 30m ramp 2m". The rate ramps linearly from the
// normal curve to `multiple` x the normal peak (grown to that day) over `ramp_s` from the start,
// holds until start + duration_s, then ramps back down over `ramp_s`.
struct EventSpec {
  std::string name;
  int day = 1;            // 1-based day of the simulated period
  double at_s = 0;        // start, seconds after that day's midnight
  double multiple = 1;    // of the normal peak, like traffic.flash_sale
  double duration_s = 0;  // from the start to the beginning of the ramp down (> 0)
  double ramp_s = 0;      // >= 0
  std::string origin;     // where it was written: "plan.yaml:40:5" or "--event 1"
};

// Parses the event grammar "NAME day D HH:MM Mx for DURATION [ramp DURATION]". The error is one
// line naming the part that is wrong. `origin` is copied into the result.
Result<EventSpec> ParseEvent(std::string_view text, const std::string& origin);

enum class SelectPolicy { kMax, kMin, kDisabled };

struct ScalingPolicySpec {  // autoscaling/v2 HPAScalingPolicy
  bool percent = false;     // Percent (true) or Pods (false)
  int value = 0;            // > 0
  double period_s = 15;     // periodSeconds, > 0
};

struct ScalingRulesSpec {   // autoscaling/v2 HPAScalingRules; unset parts keep the Kubernetes defaults
  std::optional<double> stabilization_s;
  std::optional<SelectPolicy> select;
  std::vector<ScalingPolicySpec> policies;  // empty: the defaults
};

// Overrides of a tier's autoscaler for simulate (`autoscaling:` in the plan file, keyed by tier).
struct AutoscalingSpec {
  std::string tier;
  std::string origin;                    // "plan.yaml:50:3"
  std::optional<int> min_replicas, max_replicas;
  std::optional<double> target;          // utilization (0..1), or queue depth per unit for workers
  std::optional<double> sync_s, tolerance, metric_lag_s;
  ScalingRulesSpec scale_up, scale_down;
};

// The run a plan was given with --results: the point explain picked and what it found there.
struct MeasuredPoint {
  std::string phase;
  int step = -1;              // 0-based index in the phase's stress curve; -1: the whole phase
  double rate_rps = 0, achieved_rps = 0;
  bool knee = false;
  std::string why;            // explain's reason for choosing it
  std::optional<double> p95_ms, p99_ms;
};

struct MeasuredBottleneck {   // one of explain's findings at the point, most severe first
  std::string tier, source, resource, title, change;
  double severity = 0;
  std::optional<double> utilization;
  std::vector<std::string> evidence;
};

struct RunMeasurement {
  std::string file;           // the results file as given on the command line
  MeasuredPoint at;
  std::optional<MeasuredPoint> before;  // the last rate that held below the knee, if any
  std::vector<WatchedTier> tiers;
  std::vector<MeasuredBottleneck> bottlenecks;
  std::string elsewhere;      // explain: nothing watched was saturated, the limit is elsewhere
  std::vector<std::string> notes;  // watched tiers the plan has no tier for, measured vs declared
};

// Reads results.json for `--results`: explain's point and findings, and every watched tier's
// scarcest resource there. Errors (one line): unreadable, not JSON, not a headroom results.json,
// no phase with measurements.
Result<RunMeasurement> ReadRunMeasurement(const std::string& path);

struct PlanInput {
  std::string name;
  std::string description;
  std::string source;             // plan file path (for provenance), empty for built-in inputs
  std::string currency = "EUR";
  double budget_monthly = 0;      // 0: no budget
  double safety_factor = 1.5;     // required capacity = demand x safety
  double engineer_day_cost = 0;   // converts effort to money (amortized over 12 months)
  std::vector<double> multipliers = {1, 2, 10, 100};
  TrafficSpec traffic;
  SloSpec slo;
  WorkloadSpec workload;
  std::vector<TierSpec> tiers;
  std::vector<Remedy> remedies;   // catalogue after plan-file overrides, in ladder order
  GateSpec gate;
  struct CostPoint {
    double dau = 0, monthly = 0;
  };
  std::vector<CostPoint> cost_curve;  // target monthly cost by DAU, increasing DAU
  struct Dependency {                 // an external API the requests call
    std::string name;
    double limit_rps = 0;             // its rate limit for this client
    double calls_per_request = 0;     // calls per request reaching the app
    double latency_ms = 200;          // its p95, for the bulkhead size
  };
  std::vector<Dependency> dependencies;
  AlertDefaults alert_defaults;
  std::vector<WorkloadStream> workloads;  // besides the main traffic
  std::optional<RunMeasurement> measured;    // --results with watched tiers
  std::vector<EventSpec> events;             // `events:`, for simulate
  std::vector<AutoscalingSpec> autoscaling;  // `autoscaling:`, for simulate
};

// Parses plan.yaml. On failure the error message holds every problem, one per line, as
// "file:line:col: message" (1-based). `results_path` (may be empty) supplies capacity for
// tiers declared with `capacity: results` and for `traffic.peak: results`.
Result<PlanInput> LoadPlanFile(const std::string& path, const std::string& results_path);
Result<PlanInput> ParsePlanText(const std::string& yaml_text, const std::string& source,
                                const std::string& results_path);

// The built-in remedies catalogue (src/plan/remedies.yaml, embedded at build time).
Result<std::vector<Remedy>> DefaultRemedies();

// A plan for `headroom demo`: only what the demo measured — one app unit (the embedded target, one
// thread) whose capacity is the stress phase's, +20 %/month growth, p95 SLO `p95_ms`, peak today
// at 40 % of capacity.
PlanInput DemoPlanInput(double measured_capacity_rps, double p95_ms);

// ---------------------------------------------------------------------------------------------
// Output

struct Figure {
  double value = 0;
  std::string formula;  // how it was computed, with its inputs ("800 req/s x 2 x 1.5")
};

struct LoadRow {        // one resource of one tier under one configuration
  std::string tier;     // tier name
  std::string role;     // "" or "primary", "replicas", "connections"
  TierKind kind = TierKind::kApp;
  Resource resource = Resource::kCpu;
  Figure load;          // work per second (or connections)
  std::string load_unit;
  Figure capacity;      // total capacity of the configured units at 100 %
  double utilization = 0;
  Figure target;        // highest safe utilization (queue-derived or ceiling)
  double headroom = 0;  // capacity x target / load (>= 1: fits)
};

struct Bottleneck {
  std::string tier;
  Resource resource = Resource::kCpu;
  double utilization = 0;
  double target = 0;
  std::string detail;  // the figure with its inputs
};

// Where the planned configuration runs out: load grows with demand, so a row with headroom h at
// the phase's flash-sale (or required) rate reaches its target at multiple x h of today's peak.
struct Breakpoint {
  std::string tier;     // with role, e.g. "postgres primary"
  Resource resource = Resource::kCpu;
  std::string metric;   // the Prometheus signal that shows it
  double headroom = 0;  // capacity x target / load at the phase's flash-sale (or required) rate
  Figure multiple;      // multiple of today's peak at which the row reaches its target
  Figure month;         // when that multiple is reached (-1: never at the stated growth)
};

struct Change {
  std::string remedy_id;  // "" for a plain unit-count change
  std::string title;
  std::string detail;
  double effort_days = 0;
  std::vector<std::string> settings;  // what to set, with values computed for the phase
};

struct TierUnits {
  std::string tier;
  TierKind kind = TierKind::kApp;
  int units = 0;       // nodes (database: primaries = shards)
  int replicas = 0;    // database read replicas in total
  int size_step = 0;   // vertical steps applied (capacity x factor^step)
  double monthly_cost = 0;
  std::string cost_formula;
};

struct Autoscaler {
  std::string tier;
  int min_replicas = 0, max_replicas = 0;
  double target_utilization = 0;
  std::string metric;  // "cpu", "memory" or "queue_depth"
  double target_queue_depth = 0;
  std::string rationale;
  double seconds_to_flash_capacity = 0;
};

struct AlertRule {
  AlertRule(std::string name_, std::string expr_, std::string for_, std::string severity_,
            std::string summary_, std::string group_ = "")
      : name(std::move(name_)), expr(std::move(expr_)), for_duration(std::move(for_)),
        severity(std::move(severity_)), summary(std::move(summary_)), group(std::move(group_)) {}
  std::string name, expr, for_duration, severity, summary;
  std::string group;  // "" (slo or saturation by name) or "defaults"
};

// One fault the phase's chaos scenario injects mid-run (by hand or by a script: scenario files have
// no fault actions), with what the planned configuration predicts for the SLOs meanwhile.
struct ChaosStep {
  std::string name;         // scenario phase name, e.g. "kill-app-unit"
  std::string action;       // what to do when the phase starts
  bool slos_hold = true;    // the plan predicts p95 and error rate stay within the SLOs
  std::string effect;       // the prediction, with its figures
  double duration_s = 120;  // how long the fault phase runs before the recovery phase
};

// One workload at a phase: its rate and the work it puts on each tier it hits.
struct WorkloadDemand {
  std::string name;
  std::string kind;       // "requests" (the main traffic), "api", "ingestion" or "periodic"
  Figure demand_rps;      // requests (events, jobs)/s at the phase, before the safety factor
  Figure required_rps;    // x safety: what the tiers are sized for
  double app_rps = 0, db_reads = 0, db_writes = 0, jobs = 0;  // at the required rate, per second
  std::string slo;        // its objective ("p95 < 500ms", "jobs within 5m")
};

struct PhaseResult {
  double multiplier = 1;
  Figure month_reached;       // months from today at the stated growth
  Figure demand_rps;          // peak x multiplier
  Figure required_rps;        // demand x safety
  double dau = 0;
  std::vector<LoadRow> assessment;  // today's configuration at this phase's demand
  std::vector<Bottleneck> bottlenecks;  // ranked, most severe first
  std::vector<Breakpoint> breaks_first;  // every scaling row of the plan, soonest first
  std::vector<Change> changes;      // ladder order
  std::vector<std::string> remedies;  // every remedy in force (ids, ladder order)
  std::vector<LoadRow> after;       // the planned configuration at this phase's demand
  Figure flash_rps;                 // demand x flash_sale: what the gate's spike sends
  std::vector<LoadRow> flash;       // the planned configuration at the flash-sale rate (or the
                                    // required rate when higher), autoscaled tiers at their max
  std::vector<TierUnits> units;
  double remedy_monthly_cost = 0;
  Figure monthly_cost;
  Figure cost_per_1k_dau;
  std::optional<Figure> target_cost;  // the cost curve at this phase's DAU, when one is given
  bool within_budget = true;
  std::string budget_note;          // overrun: the cheapest alternative or the shortfall
  bool feasible = true;             // false: no remedy in the catalogue restores the SLO
  std::string unresolved;
  std::vector<std::string> database;   // database path lines
  std::vector<std::string> caching;    // caching hierarchy lines
  std::vector<std::string> readiness;  // horizontal-scaling readiness lines
  std::vector<Autoscaler> autoscalers;
  std::vector<std::string> traffic;    // traffic management lines
  std::vector<AlertRule> alerts;
  std::vector<std::string> runbook;
  std::string gate_file;               // artifacts-relative path of the load-test gate
  std::vector<std::string> load_test;  // ramp to 3x, soak, chaos steps with expected effects
  std::string stress_file;             // artifacts-relative: stress to 3x the required rate
  std::string chaos_file;              // artifacts-relative: the chaos steps as a scenario
  std::vector<ChaosStep> chaos;
  std::vector<WorkloadDemand> workloads;  // the main traffic first, then plan.workloads
  std::string stage;                   // "growth (5,747 DAU; ...)"; "" without users
  std::vector<std::string> premature;  // remedies early for the stage, and what forces them
  std::vector<std::string> checklist;  // "[x] ..." provided by the plan, "[ ] ..." to do
  std::vector<std::string> dependencies;  // per external API: demand vs limit, and the settings
};

struct PlanOutput {
  PlanInput input;
  std::vector<PhaseResult> phases;
  std::optional<double> writes_outgrow_primary_multiplier;  // sharding point, if any
  std::string writes_outgrow_detail;
};

// Builds the roadmap. Fails only on inputs the planner cannot use (e.g. no app tier).
Result<PlanOutput> BuildPlan(const PlanInput& input);

// Writes out_dir/plan.md, out_dir/plan.json and out_dir/artifacts/<phase>/{hpa.yaml,
// prometheus-rules.yaml,gate.yaml}. Creates out_dir if needed; overwrites those files only.
Status WritePlan(const PlanOutput& plan, const std::string& out_dir);

// Text of each output file, keyed by path relative to out_dir (what WritePlan writes).
std::map<std::string, std::string> RenderPlan(const PlanOutput& plan);

// ---------------------------------------------------------------------------------------------
// Kubernetes: one test on N generator pods (headroom k8s, docs/distributed.md)

struct K8sFile {
  std::string key;   // ConfigMap key: [-._a-zA-Z0-9]+
  std::string path;  // where it is mounted under /scenario (the scenario's relative path)
  std::string text;
};

struct K8sSpec {
  std::string name;            // prefix of every object's name: a DNS-1123 label, at most 40 characters
  std::string namespace_name;  // "" = kubectl's current namespace
  std::string image;           // an image whose entrypoint is headroom (the repository's Dockerfile)
  int parallelism = 2;         // generator pods, one shard each
  std::string scenario_path;   // path of the scenario among `files`
  std::vector<K8sFile> files;  // the scenario and its data files
  int64_t start_at_us = 0;     // when every shard starts (the ConfigMap's start-at, editable)
  bool needs_sync = false;     // stress phases: shards exchange steps under /results/sync
  double peak_rps = 0;         // the scenario's highest rate (whole test)
  double per_core_rps = 0;     // what one generator core sustains (measured), > 0
  int64_t deadline_s = 3600;   // activeDeadlineSeconds of both Jobs
  std::string storage_class;   // "" = the cluster's default
  std::string storage_size = "1Gi";
  std::vector<std::string> run_args;  // extra arguments of headroom run (e.g. -e NAME=VALUE)
};

// Worker threads (and CPU cores requested) per generator pod: the pod's share of the peak rate
// over what one core sustains, rounded up, at least 1.
int K8sCoresPerPod(double peak_rps, int parallelism, double per_core_rps);
// What one core sustained in a run: requests per CPU-second of the generator (user + system).
// nullopt when the run used no measurable CPU.
std::optional<double> PerCoreRps(int64_t requests, double cpu_s);
// The manifests as one multi-document YAML: a ConfigMap (files and start-at), a ReadWriteMany
// PersistentVolumeClaim for the results, an Indexed Job of `parallelism` generator pods (spread
// over nodes) each running `headroom run --shard $(JOB_COMPLETION_INDEX)/N`, and a merge Job that
// waits for every shard and runs `headroom merge` (its exit code is the test's). Errors: a bad name,
// parallelism < 1, no image.
Result<std::string> K8sManifests(const K8sSpec& spec);

std::string_view TierKindName(TierKind kind);
std::string_view ResourceName(Resource resource);

}  // namespace headroom::plan
