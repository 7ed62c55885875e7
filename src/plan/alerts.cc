// Monitoring artifacts: SLO burn-rate alerts on the error budget (multi-window, multi-burn-rate:
// 14.4x over 1h and 5m, 6x over 6h and 30m, 1x over 3d and 6h) and saturation warnings per tier,
// written as a Prometheus rules file. Metric names follow the common exporters (see docs/plan.md).
#include <algorithm>
#include <cmath>
#include <tuple>

#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

std::string ErrorRatio(const std::string& job, const std::string& window) {
  return "sum(rate(http_requests_total{job=\"" + job + "\",code=~\"5..\"}[" + window +
         "])) / sum(rate(http_requests_total{job=\"" + job + "\"}[" + window + "]))";
}

// A threshold as PromQL reads it and a person can check it: four significant digits at most,
// no exponent, no trailing zeros (0.693877551 -> 0.6939, 0.0144 -> 0.0144, 10000 -> 10000).
std::string Ratio(double v) {
  if (v == 0 || !std::isfinite(v)) return "0";
  int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  int decimals = std::clamp(3 - magnitude, 0, 12);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string BurnExpr(const std::string& job, double burn, double budget, const std::string& longw,
                     const std::string& shortw) {
  std::string threshold = std::string(1, '(');
  threshold.append(Ratio(burn)).append(" * ").append(Ratio(budget)).append(")");
  std::string out(1, '(');
  out.append(ErrorRatio(job, longw)).append(") > ").append(threshold).append(" and (");
  out.append(ErrorRatio(job, shortw)).append(") > ").append(threshold);
  return out;
}

std::string CpuExpr(const std::string& job) {
  return "1 - avg(rate(node_cpu_seconds_total{job=\"" + job + "\",mode=\"idle\"}[5m]))";
}

std::string MemoryExpr(const std::string& job) {
  return "1 - sum(node_memory_MemAvailable_bytes{job=\"" + job +
         "\"}) / sum(node_memory_MemTotal_bytes{job=\"" + job + "\"})";
}

// Connections in use against the pool: PgBouncer's server pool once connection pooling is in
// force (pgbouncer_exporter), else the server's own max_connections (postgres_exporter).
std::string DbPoolExpr(const Model& m, const Config& c, const std::string& job) {
  if (m.Has(c, "connection_pooling"))
    return "sum(pgbouncer_pools_server_active_connections{job=\"" + job +
           "\"}) / sum(pgbouncer_databases_pool_size{job=\"" + job + "\"})";
  return "sum(pg_stat_activity_count{job=\"" + job + "\"}) / max(pg_settings_max_connections{job=\"" +
         job + "\"})";
}

// Jobs page on what the job-delay SLO promises: the oldest waiting job's age (warning at half
// the SLO, critical at it), and a backlog that the current consumption rate cannot clear within
// the SLO. A depth threshold alone pages while the autoscaler is still catching up.
void QueueAlerts(const PlanInput& in, const std::string& job, const std::string& title,
                 std::vector<AlertRule>& out) {
  const AlertDefaults& def = in.alert_defaults;
  double delay = in.slo.job_delay_s.value_or(def.job_latency_s[1]);
  double warn = std::floor(delay / 2);
  std::string sel = "{job=\"" + job + "\"}";
  std::string age = "max(queue_oldest_message_age_seconds" + sel + ")";
  std::string what = in.slo.job_delay_s ? "job-delay SLO" : "default job latency (no job_delay set)";
  if (in.slo.job_delay_s) {
    out.push_back({title + "JobAgeHigh", age + " > " + Ratio(warn), "2m", "warning",
                   "oldest job has waited over " + Num(warn) + "s (half the " + Num(delay) + "s " +
                       what + ")"});
    out.push_back({title + "JobAgeCritical", age + " > " + Ratio(delay), "1m", "critical",
                   "oldest job has waited over the " + Num(delay) + "s " + what + ": scale workers"});
  }
  // The generic job-latency thresholds, always; without a job_delay they are the job-age alerts.
  for (int i = 0; i < 2; ++i)
    out.push_back({title + (i ? "JobLatencyCritical" : "JobLatencyHigh"),
                   age + " > " + Ratio(def.job_latency_s[i]), i ? "1m" : "2m",
                   i ? "critical" : "warning",
                   "oldest job has waited over " + Num(def.job_latency_s[i]) +
                       "s (default job-latency threshold)", "defaults"});
  out.push_back({title + "BacklogCannotDrain",
                 "sum(queue_messages_ready" + sel + ") / clamp_min(sum(rate(queue_messages_acked_total" +
                     sel + "[5m])), 0.001) > " + Ratio(delay),
                 "5m", "critical",
                 "at the current consumption rate the backlog takes longer than the " + Num(delay) +
                     "s " + what + " to drain: add workers or shed background work"});
  std::string depth = "sum(queue_messages_ready" + sel + ")";
  out.push_back({title + "DepthHigh", depth + " > " + Ratio(in.alert_defaults.queue_depth[0]), "10m",
                 "warning", "backlog above " + Num(in.alert_defaults.queue_depth[0]) +
                                " jobs (backstop; the age alerts carry the SLO)", "defaults"});
  out.push_back({title + "DepthCritical", depth + " > " + Ratio(in.alert_defaults.queue_depth[1]),
                 "10m", "critical", "backlog above " + Num(in.alert_defaults.queue_depth[1]) + " jobs",
                 "defaults"});
}

// The generic thresholds of AlertDefaults for what the plan's targets do not cover: p50 and p99
// latency, a two-level error rate, memory (tiers limited by CPU) and disk per tier.
void DefaultAlerts(const Model& m, const Config& c, const std::string& job,
                   std::vector<AlertRule>& out) {
  const AlertDefaults& d = m.in.alert_defaults;
  const char* level[2] = {"warning", "critical"};
  const char* suffix[2] = {"High", "Critical"};
  for (int i = 0; i < 2; ++i) {
    for (auto [q, name, ms] : {std::tuple{"0.5", "LatencyP50", d.p50_ms[i]},
                               std::tuple{"0.99", "LatencyP99", d.p99_ms[i]}})
      out.push_back({std::string(name) + suffix[i],
                     "histogram_quantile(" + std::string(q) + ", sum by (le) (rate(http_request_"
                     "duration_seconds_bucket{job=\"" + job + "\"}[5m]))) > " + Ratio(ms / 1e3),
                     i ? "5m" : "10m", level[i],
                     std::string(name == std::string("LatencyP50") ? "p50" : "p99") + " above " +
                         Num(ms) + "ms (default threshold)", "defaults"});
    out.push_back({std::string("ErrorRate") + suffix[i],
                   ErrorRatio(job, "5m") + " > " + Ratio(d.error_rate[i]), i ? "5m" : "10m",
                   level[i], "error rate above " + Pct(d.error_rate[i]) + " (default threshold)",
                   "defaults"});
  }
  for (size_t t = 0; t < m.tiers.size(); ++t) {
    if (!c.tiers[t].present || m.tiers[t].kind == TierKind::kCdn) continue;
    const TierSpec& tier = m.tiers[t];
    std::string tjob = DnsLabel(tier.name), title = PromName(tier.name);
    for (int i = 0; i < 2; ++i) {
      // Sustained CPU: the generic threshold over 15 minutes, whatever the planned target says.
      out.push_back({title + "CpuSustained" + suffix[i], CpuExpr(tjob) + " > " + Ratio(d.cpu[i]),
                     "15m", level[i], tier.name + " CPU above " + Pct(d.cpu[i]) +
                                          " for 15 minutes (default threshold)", "defaults"});
      if (tier.limited_by != Resource::kMemory)
        out.push_back({title + "Memory" + suffix[i], MemoryExpr(tjob) + " > " + Ratio(d.memory[i]),
                       "15m", level[i], tier.name + " memory above " + Pct(d.memory[i]),
                       "defaults"});
      out.push_back({title + "Disk" + suffix[i],
                     "1 - sum(node_filesystem_avail_bytes{job=\"" + tjob + "\",fstype!=\"tmpfs\"}) / "
                     "sum(node_filesystem_size_bytes{job=\"" + tjob + "\",fstype!=\"tmpfs\"}) > " +
                         Ratio(d.disk[i]),
                     "15m", level[i], tier.name + " disk above " + Pct(d.disk[i]), "defaults"});
      if (tier.kind == TierKind::kDatabase)
        out.push_back({title + "DbPool" + suffix[i], DbPoolExpr(m, c, tjob) + " > " +
                                                         Ratio(d.db_pool[i]),
                       "10m", level[i], tier.name + " connection pool above " + Pct(d.db_pool[i]) +
                                            " in use (default threshold)", "defaults"});
    }
  }
}

// Warning at 90 % of the planned target (time to scale ahead), critical at the target itself
// (past it the predicted p95 breaks the SLO, or the tier's ceiling is reached).
void Saturation(std::vector<AlertRule>& out, const std::string& tier, const std::string& what,
                const std::string& expr, double target) {
  std::string t = PromName(tier) + what;
  // Whole tenths of a percent, so the expression and its summary state the same threshold.
  target = std::round(target * 1000) / 1000;
  double warning = std::floor(target * 90) / 100;
  out.push_back({t + "High", expr + " > " + Ratio(warning), "10m", "warning",
                 tier + " " + what + " above " + Pct(warning) + " (90 % of the planned target)"});
  out.push_back({t + "Critical", expr + " > " + Ratio(target), "5m", "critical",
                 tier + " " + what + " above the " + Pct(target) +
                     " planned target: scale now (runbook)"});
}

}  // namespace

void FillAlerts(const Model& m, const Config& c, PhaseResult& ph) {
  const PlanInput& in = m.in;
  auto& out = ph.alerts;
  double budget = 1 - in.slo.availability;
  std::string job = m.app >= 0 ? DnsLabel(m.tiers[m.app].name) : "app";
  std::string avail = Pct(in.slo.availability);
  out.push_back({"ErrorBudgetBurnFast", BurnExpr(job, 14.4, budget, "1h", "5m"), "2m", "page",
                 "burning the " + avail + " error budget 14.4x too fast (2 % of 30 days in 1h)"});
  out.push_back({"ErrorBudgetBurnMedium", BurnExpr(job, 6, budget, "6h", "30m"), "15m", "page",
                 "burning the " + avail + " error budget 6x too fast (5 % of 30 days in 6h)"});
  out.push_back({"ErrorBudgetBurnSlow", BurnExpr(job, 1, budget, "3d", "6h"), "1h", "ticket",
                 "burning the " + avail + " error budget at 1x (10 % of 30 days in 3d)"});
  out.push_back({"LatencyP95AboveSlo",
                 "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{"
                 "job=\"" + job + "\"}[5m]))) > " + Ratio(in.slo.p95_ms / 1e3),
                 "10m", "page", "p95 above the " + Num(in.slo.p95_ms) + "ms SLO"});
  out.push_back({"ErrorRateAboveSlo", ErrorRatio(job, "5m") + " > " + Ratio(in.slo.error_rate),
                 "10m", "warning", "error rate above the " + Pct(in.slo.error_rate) + " SLO"});
  for (size_t i = 0; i < m.tiers.size(); ++i) {
    if (!c.tiers[i].present) continue;
    const TierSpec& t = m.tiers[i];
    if (t.kind == TierKind::kCdn) continue;
    const LoadRow* row = FindRow(ph.after, t.name, t.kind == TierKind::kDatabase ? "primary" : "");
    double target = row ? row->target.value : m.CeilingOf(static_cast<int>(i));
    std::string tjob = DnsLabel(t.name);
    if (t.limited_by == Resource::kMemory) {
      Saturation(out, t.name, "Memory", MemoryExpr(tjob), target);
    } else {
      Saturation(out, t.name, "Cpu", CpuExpr(tjob), target);
    }
    if (t.kind == TierKind::kDatabase && t.max_connections > 0) {
      Saturation(out, t.name, "Connections",
                 "sum(pg_stat_activity_count{job=\"" + tjob +
                     "\"}) / max(pg_settings_max_connections{job=\"" + tjob + "\"})",
                 0.8);
    }
    if (t.kind == TierKind::kQueue) QueueAlerts(in, tjob, PromName(t.name), out);
  }
  DefaultAlerts(m, c, job, out);
}

namespace {

std::string SingleQuoted(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

}  // namespace

std::string RulesYaml(const PlanInput& in, const PhaseResult& ph) {
  std::string phase = PhaseLabel(ph.multiplier);
  std::string out = "# Prometheus alerting rules for " + in.name + ", phase " + phase +
                    " (headroom plan).\n# Metric names and label conventions: docs/plan.md, "
                    "\"Alert rules\".\ngroups:\n";
  auto group = [&](const std::string& name, bool slo) {
    out += "  - name: " + DnsLabel(in.name) + "-" + name + "\n    rules:\n";
    for (const AlertRule& r : ph.alerts) {
      bool is_slo = r.name.rfind("ErrorBudget", 0) == 0 || r.name.rfind("Latency", 0) == 0 ||
                    r.name.rfind("ErrorRate", 0) == 0;
      if ((r.group == "defaults") != (name == "defaults")) continue;
      if (name != "defaults" && is_slo != slo) continue;
      out += "      - alert: " + r.name + "\n";
      out += "        expr: " + SingleQuoted(r.expr) + "\n";
      out += "        for: " + r.for_duration + "\n";
      out += "        labels:\n          severity: " + r.severity + "\n          phase: \"" +
             phase + "\"\n";
      out += "        annotations:\n          summary: " + SingleQuoted(r.summary) + "\n";
    }
  };
  group("slo", true);
  group("saturation", false);
  group("defaults", false);
  return out;
}

std::string HpaYaml(const PlanInput& in, const PhaseResult& ph) {
  std::string phase = PhaseLabel(ph.multiplier);
  std::string out = "# HorizontalPodAutoscalers for " + in.name + ", phase " + phase +
                    " (headroom plan). One document per stateless tier.\n";
  for (const Autoscaler& a : ph.autoscalers) {
    out += "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n";
    out += "  name: " + DnsLabel(a.tier) + "\n  labels:\n    app.kubernetes.io/part-of: " + DnsLabel(in.name) +
           "\n    headroom.dev/phase: \"" + phase + "\"\n";
    out += "  annotations:\n    headroom.dev/rationale: " + SingleQuoted(a.rationale) + "\n";
    out += "spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: " +
           DnsLabel(a.tier) + "\n";
    out += "  minReplicas: " + std::to_string(a.min_replicas) + "\n  maxReplicas: " +
           std::to_string(a.max_replicas) + "\n  metrics:\n";
    if (a.metric == "queue_depth") {
      out += "    - type: External\n      external:\n        metric:\n          name: "
             "queue_messages_ready\n          selector:\n            matchLabels:\n"
             "              consumer: " + DnsLabel(a.tier) + "\n        target:\n          type: AverageValue\n"
             "          averageValue: \"" + std::to_string(std::lround(a.target_queue_depth)) + "\"\n";
    } else {
      out += "    - type: Resource\n      resource:\n        name: " + a.metric +
             "\n        target:\n          type: Utilization\n          averageUtilization: " +
             std::to_string(static_cast<int>(std::lround(a.target_utilization * 100))) + "\n";
    }
    out += "  behavior:\n    scaleUp:\n      stabilizationWindowSeconds: 0\n      selectPolicy: Max\n"
           "      policies:\n        - type: Percent\n          value: 100\n          periodSeconds: 15\n"
           "        - type: Pods\n          value: 4\n          periodSeconds: 15\n"
           "    scaleDown:\n      stabilizationWindowSeconds: 300\n      selectPolicy: Min\n"
           "      policies:\n        - type: Percent\n          value: 10\n          periodSeconds: 60\n";
  }
  return out;
}

}  // namespace headroom::plan
