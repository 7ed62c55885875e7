// plan.md: the roadmap for people. Every figure is followed by where it came from: the formula
// with its inputs, the declared value, or the results.json field.
#include <cmath>

#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

std::string RowName(const LoadRow& r) { return r.tier + (r.role.empty() ? "" : " " + r.role); }

void Table(std::string& md, const std::vector<LoadRow>& rows) {
  md += "| Tier | Resource | Load | Capacity (100 %) | Utilization | Target | Headroom |\n";
  md += "|---|---|---:|---:|---:|---:|---:|\n";
  for (const LoadRow& r : rows) {
    md += "| " + RowName(r) + " | " + std::string(ResourceName(r.resource)) + " | " +
          Num(r.load.value) + " " + r.load_unit + " | " + Num(r.capacity.value) + " | " +
          Pct(r.utilization) + (r.utilization > r.target.value + 1e-12 ? " **over**" : "") +
          " | " + Pct(r.target.value) + " | " + (r.headroom >= 1e6 ? "-" : Num(r.headroom) + "x") +
          " |\n";
  }
  md += "\nWhere the figures come from:\n\n";
  for (const LoadRow& r : rows) {
    md += "- " + RowName(r) + ": load " + r.load.formula + " = " + Num(r.load.value) + " " +
          r.load_unit + "; capacity " + r.capacity.formula + "; utilization " +
          Num(r.load.value) + " / " + Num(r.capacity.value) + " = " + Pct(r.utilization) +
          "; target " + r.target.formula + ".\n";
  }
}

void Lines(std::string& md, const std::vector<std::string>& lines, const std::string& empty) {
  if (lines.empty()) {
    md += empty + "\n";
    return;
  }
  for (const std::string& l : lines) md += "- " + l + "\n";
}

std::string Month(const Figure& f) {
  return f.value < 0 ? "never" : f.value == 0 ? "now" : "month " + Num(f.value);
}

void Summary(std::string& md, const PlanOutput& plan) {
  const PlanInput& in = plan.input;
  md += "## Summary\n\n| Phase | Reached | Demand | Required | Remedies in force | Monthly cost | "
        "Per 1k DAU | Budget |\n|---|---|---:|---:|---|---:|---:|---|\n";
  for (const PhaseResult& ph : plan.phases) {
    std::string remedies;
    for (const std::string& r : ph.remedies) remedies += (remedies.empty() ? "" : ", ") + r;
    md += "| " + PhaseLabel(ph.multiplier) + " | " + Month(ph.month_reached) + " | " +
          Num(ph.demand_rps.value) + " req/s | " + Num(ph.required_rps.value) + " req/s | " +
          (remedies.empty() ? "-" : remedies) + " | " + Money(in, ph.monthly_cost.value) + " | " +
          (ph.dau > 0 ? Money(in, ph.cost_per_1k_dau.value) : "-") + " | " +
          (in.budget_monthly <= 0 ? "-" : ph.within_budget ? "within" : "**over**") +
          (ph.feasible ? "" : " (SLO not restored)") + " |\n";
  }
  if (plan.writes_outgrow_primary_multiplier)
    md += "\nSharding timeline: " + plan.writes_outgrow_detail + ".\n";
  if (!in.cost_curve.empty()) {
    md += "\nCost against the plan file's target curve:\n\n| Phase | DAU | Plan | Curve | Plan / curve |\n"
          "|---|---:|---:|---:|---:|\n";
    for (const PhaseResult& ph : plan.phases) {
      if (!ph.target_cost) continue;
      double t = ph.target_cost->value;
      md += "| " + PhaseLabel(ph.multiplier) + " | " + Num(ph.dau) + " | " +
            Money(in, ph.monthly_cost.value) + " | " + Money(in, t) + " | " +
            (t > 0 ? Pct(ph.monthly_cost.value / t) : "-") + " |\n";
    }
  }
  md += "\n";
}

std::string LatencyText(const WatchedTier& w) {
  return Num(*w.latency_ms) + " ms (measured: " + w.latency_metric + ")";
}

std::string PointLine(const RunMeasurement& run) {
  const MeasuredPoint& p = run.at;
  std::string s = "At " + p.why + ": " + PointText(p) + " (" + Num(p.rate_rps) + " req/s sent)";
  if (p.p95_ms) s += ", p95 " + Num(*p.p95_ms) + " ms";
  if (p.p99_ms) s += ", p99 " + Num(*p.p99_ms) + " ms";
  return s + ".";
}

// What --results measured: the point, each planned tier's capacity from it, and explain's ranking.
void Measured(std::string& md, const PlanInput& in) {
  const RunMeasurement& run = *in.measured;
  md += "## Measured (" + run.file + ")\n\n" + PointLine(run) + "\n\n";
  md += "Each tier's capacity is its load at the point's rate / the utilization of its scarcest "
        "resource there / its units; a tier's load at any other rate then grows linearly from the "
        "measured utilization.\n\n";
  md += "| Tier | Watched | Scarcest resource | Utilization | Load at the point | Capacity per unit | "
        "Used | Latency |\n|---|---|---|---:|---:|---:|---|---|\n";
  for (const TierSpec& t : in.tiers) {
    if (!t.measured) continue;
    const TierMeasurement& m = *t.measured;
    const WatchedTier& w = m.watched;
    std::string used = m.used ? (m.lower_bound ? "measured, lower bound" : "measured")
                              : "declared" + (m.declared_rps ? " " + Num(*m.declared_rps) + "/s" : std::string());
    if (m.used && m.declared_rps) used += "; declared " + Num(*m.declared_rps) + "/s replaced";
    md += "| " + t.name + " | " + w.name + " (" + w.kind + ") | " +
          (w.utilization ? w.resource + ": " + w.evidence : "none: " + w.why_not) + " | " +
          (w.utilization ? Pct(*w.utilization) : "-") + " | " +
          (m.load > 0 ? Num(m.load) + " " + m.load_unit : "-") + " | " +
          (m.capacity_rps > 0 ? (m.lower_bound ? ">= " : "") + Num(m.capacity_rps) + "/s" : "-") + " | " + used +
          " | " + (w.latency_ms ? LatencyText(w) : "not measured") +
          (w.latency_ms && m.latency_budget_ms ? "; budget " + Num(*m.latency_budget_ms) + " ms" : "") + " |\n";
  }
  md += "\n";
  for (const TierSpec& t : in.tiers) {
    if (!t.measured || !(t.measured->capacity_rps > 0)) continue;
    const TierMeasurement& m = *t.measured;
    md += "- " + t.name + ": " + m.load_formula + " = " + Num(m.load) + " " + m.load_unit + "; / " +
          Pct(std::max(*m.watched.utilization, kMinMeasuredUtilization)) + " " + m.watched.resource + " / " +
          std::to_string(std::max(t.count, 1)) + " unit(s) = " + Num(m.capacity_rps) + "/s per unit" +
          (m.used ? "" : " (not used)") + ".\n";
  }
  if (!run.notes.empty()) {
    md += "\nNotes:\n\n";
    for (const std::string& n : run.notes) md += "- " + n + ".\n";
  }
  md += "\nBottlenecks measured at the point (`headroom explain`), most severe first:\n\n";
  if (run.bottlenecks.empty()) md += "None ranked.\n";
  for (size_t i = 0; i < run.bottlenecks.size(); ++i) {
    const MeasuredBottleneck& b = run.bottlenecks[i];
    md += std::to_string(i + 1) + ". **" + b.tier + " — " + b.resource + "**: " + b.title +
          (b.utilization ? " (utilization " + Pct(*b.utilization) + ")" : "") + "\n";
    for (const std::string& e : b.evidence) md += "   - " + e + "\n";
    md += "   - change: " + b.change + "\n";
  }
  if (!run.elsewhere.empty()) md += "\n" + run.elsewhere + ".\n";
  md += "\n";
}

// The measured ranking again where each phase assesses its bottlenecks, in one line per finding.
void MeasuredBottlenecks(std::string& md, const RunMeasurement& run) {
  md += "\nBottlenecks measured at the run's point (" + run.file + ", " + PointText(run.at) +
        "), most severe first:\n\n";
  if (run.bottlenecks.empty()) md += "None ranked" + (run.elsewhere.empty() ? "" : ": " + run.elsewhere) + ".\n";
  for (size_t i = 0; i < run.bottlenecks.size(); ++i) {
    const MeasuredBottleneck& b = run.bottlenecks[i];
    std::string evidence;
    for (const std::string& e : b.evidence) evidence += (evidence.empty() ? "" : "; ") + e;
    md += std::to_string(i + 1) + ". **" + b.tier + "** (" + b.resource +
          (b.utilization ? ", " + Pct(*b.utilization) : "") + "): " + b.title +
          (evidence.empty() ? "" : " — " + evidence) + ".\n";
  }
}

// Sections 1-3: where the phase starts, when it arrives, what changes.
void Assessment(std::string& md, const PlanInput& in, const PhaseResult& ph) {
  std::string label = PhaseLabel(ph.multiplier);
  md += "## Phase " + label + " (" + Month(ph.month_reached) + ")\n\n";
  md += "Demand " + Num(ph.demand_rps.value) + " req/s = " + ph.demand_rps.formula +
        "; required capacity " + Num(ph.required_rps.value) + " req/s = " +
        ph.required_rps.formula + (ph.dau > 0 ? "; " + Num(ph.dau) + " DAU" : "") + ".\n\n";
  if (!ph.stage.empty()) md += "Stage: " + ph.stage + ".\n\n";
  for (const std::string& p : ph.premature) md += "- Premature for the stage: " + p + ".\n";
  if (!ph.premature.empty()) md += "\n";

  if (!ph.workloads.empty()) {
    md += "Workloads at this phase (work per second at the required rate, before caches and "
          "batching):\n\n| workload | kind | demand | required | app req/s | db reads | db writes | "
          "jobs | SLO |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n";
    for (const WorkloadDemand& w : ph.workloads)
      md += "| " + w.name + " | " + w.kind + " | " + Num(w.demand_rps.value) + " | " +
            Num(w.required_rps.value) + " | " + Num(w.app_rps) + " | " + Num(w.db_reads) + " | " +
            Num(w.db_writes) + " | " + Num(w.jobs) + " | " + w.slo + " |\n";
    md += "\n";
    for (const WorkloadDemand& w : ph.workloads)
      if (w.kind != "requests") md += "- " + w.name + ": " + w.demand_rps.formula + ".\n";
    md += "\n";
  }
  md += "### 1. Assessment\n\nThe configuration entering this phase, at this phase's required "
        "capacity:\n\n";
  Table(md, ph.assessment);
  if (in.measured) MeasuredBottlenecks(md, *in.measured);
  md += in.measured ? "\nProjected at this phase's required rate, most severe first:\n\n"
                    : "\nBottlenecks, most severe first:\n\n";
  if (ph.bottlenecks.empty()) md += "None: every tier is within its target.\n";
  for (size_t i = 0; i < ph.bottlenecks.size(); ++i) {
    const Bottleneck& b = ph.bottlenecks[i];
    md += std::to_string(i + 1) + ". **" + b.tier + "** (" + std::string(ResourceName(b.resource)) +
          "): " + b.detail + ".\n";
  }

  md += "\n### 2. When\n\n" + label + " today's peak is reached " +
        (ph.month_reached.value == 0 ? "now" : ph.month_reached.value < 0 ? "never" : "in month " + Num(ph.month_reached.value)) +
        ": " + ph.month_reached.formula + ".\n";

}

void Changes(std::string& md, const PlanInput& in, const PhaseResult& ph) {
  md += "\n### 3. Changes\n\n";
  if (ph.changes.empty()) md += "None needed.\n";
  for (size_t i = 0; i < ph.changes.size(); ++i) {
    const Change& c = ph.changes[i];
    md += std::to_string(i + 1) + ". **" + c.title + "**: " + c.detail +
          (c.effort_days > 0 ? " (effort " + Num(c.effort_days) + " days)" : "") + ".\n";
    for (const std::string& s : c.settings) md += "   - Set: " + s + "\n";
  }
  if (!ph.feasible)
    md += "\n**Not restored by the catalogue:** " + ph.unresolved + ". Extend the catalogue or "
          "revisit the architecture before this phase.\n";
  md += "\nResulting units:\n\n| Tier | Units | Replicas | Vertical step | Monthly cost |\n"
        "|---|---:|---:|---:|---|\n";
  for (const TierUnits& u : ph.units)
    md += "| " + u.tier + " | " + std::to_string(u.units) + " | " + std::to_string(u.replicas) +
          " | " + std::to_string(u.size_step) + " | " + Money(in, u.monthly_cost) + " = " +
          u.cost_formula + " |\n";
  md += "\nAfter the changes:\n\n";
  Table(md, ph.after);
  if (ph.flash_rps.value > ph.required_rps.value) {
    md += "\nAt the flash sale (" + Num(ph.flash_rps.value) + " req/s = " + ph.flash_rps.formula +
          "), autoscaled tiers at their maximum, every other tier as planned:\n\n";
    Table(md, ph.flash);
  }

}

void BreaksFirst(std::string& md, const PhaseResult& ph) {
  md += "\n### What breaks first\n\nThe planned configuration, ranked by the multiple of today's "
        "peak at which each tier reaches its target (load grows with demand; autoscaled tiers at "
        "their maximum):\n\n| # | Tier | Resource | Breaks at | Month | Watch |\n"
        "|---:|---|---|---:|---|---|\n";
  for (size_t i = 0; i < ph.breaks_first.size(); ++i) {
    const Breakpoint& b = ph.breaks_first[i];
    md += "| " + std::to_string(i + 1) + " | " + b.tier + " | " +
          std::string(ResourceName(b.resource)) + " | " + Num(b.multiple.value) + "x | " +
          Month(b.month) + " | `" + b.metric + "` |\n";
  }
  if (ph.breaks_first.empty()) {
    md += "Nothing grows with demand in this configuration.\n";
  } else {
    const Breakpoint& b = ph.breaks_first.front();
    md += "\nFirst: **" + b.tier + "** (" + std::string(ResourceName(b.resource)) + ") at " +
          Num(b.multiple.value) + "x = " + b.multiple.formula + ", " +
          (b.month.value < 0 ? "never at the stated growth" : b.month.value == 0 ? "now" : "month " + Num(b.month.value) + " (" + b.month.formula + ")") + ".\n";
  }
}

// Sections 4-8: how the architecture and operations change.
void Operations(std::string& md, const PlanOutput& plan, const PhaseResult& ph) {
  md += "\n### 4. Database path\n\n";
  Lines(md, ph.database, "No database tier.");
  if (!ph.database.empty() && plan.writes_outgrow_primary_multiplier)
    md += "- Sharding timeline: " + plan.writes_outgrow_detail + ".\n";
  md += "\n### 5. Caching hierarchy\n\n";
  Lines(md, ph.caching, "No cacheable work declared.");
  md += "\n### 6. Horizontal-scaling readiness\n\n";
  Lines(md, ph.readiness, "");

  md += "\n### 7. Autoscaling\n\n";
  if (ph.autoscalers.empty()) {
    md += "No stateless tier to autoscale in this phase (see readiness).\n";
  } else {
    md += "| Tier | Metric | Target | Min | Max | To flash-sale capacity |\n|---|---|---:|---:|---:|---:|\n";
    for (const Autoscaler& a : ph.autoscalers)
      md += "| " + a.tier + " | " + a.metric + " | " +
            (a.metric == "queue_depth" ? Num(a.target_queue_depth) + " jobs/worker"
                                       : Pct(a.target_utilization)) +
            " | " + std::to_string(a.min_replicas) + " | " + std::to_string(a.max_replicas) +
            " | ~" + Num(a.seconds_to_flash_capacity) + "s |\n";
    md += "\n";
    for (const Autoscaler& a : ph.autoscalers) md += "- " + a.tier + ": " + a.rationale + ".\n";
    md += "\nScale up by up to 100 % or 4 pods per 15s, scale down by 10 % per minute after 5 "
          "minutes of low load. Manifests: `artifacts/" + PhaseDir(ph.multiplier) +
          "/hpa.yaml`. Announced flash sales: raise minReplicas to the maximum beforehand.\n";
  }

  md += "\n### 8. Traffic management\n\n";
  Lines(md, ph.traffic, "");

}

// Sections 9-12: what watches, what it costs, what proves it, what to do by hand.
void Enforcement(std::string& md, const PlanInput& in, const PhaseResult& ph) {
  if (!ph.dependencies.empty()) {
    md += "\n### External dependencies\n\n";
    Lines(md, ph.dependencies, "");
  }
  md += "\n### 9. Monitoring and alerting\n\n";
  md += "SLIs: availability (non-5xx responses / all responses), p95 latency from the request "
        "duration histogram, saturation per tier. SLOs: availability " + Pct(in.slo.availability) +
        " (error budget " + Pct(1 - in.slo.availability) + "), p95 < " + Num(in.slo.p95_ms) + "ms" +
        (in.slo.p99_ms ? ", p99 < " + Num(*in.slo.p99_ms) + "ms" : "") + ", error rate < " +
        Pct(in.slo.error_rate) +
        (in.slo.job_delay_s ? ", background jobs start within " + Num(*in.slo.job_delay_s) + "s" : "") +
        ".\n\n| Alert | Severity | For | Expression |\n|---|---|---|---|\n";
  for (const AlertRule& a : ph.alerts)
    md += "| " + a.name + " | " + a.severity + " | " + a.for_duration + " | `" + a.expr + "` |\n";
  md += "\nRules file: `artifacts/" + PhaseDir(ph.multiplier) + "/prometheus-rules.yaml`.\n";

  md += "\n### 10. Cost\n\n";
  md += "Monthly: " + Money(in, ph.monthly_cost.value) + " = " + ph.monthly_cost.formula + ".\n";
  if (ph.dau > 0)
    md += "Per 1,000 DAU: " + Money(in, ph.cost_per_1k_dau.value) + " = " +
          ph.cost_per_1k_dau.formula + ".\n";
  if (ph.target_cost)
    md += "Target from the cost curve: " + Money(in, ph.target_cost->value) + " = " +
          ph.target_cost->formula + (ph.monthly_cost.value > ph.target_cost->value + 0.5
                                         ? "; the plan is **above** it.\n"
                                         : "; the plan is within it.\n");
  if (in.budget_monthly > 0)
    md += ph.within_budget ? "Within the " + Money(in, in.budget_monthly) + " monthly budget.\n"
                           : "**Over budget:** " + ph.budget_note + "\n";

  md += "\n### 11. Load-test gate\n\n`headroom run " + ph.gate_file + "`: ramp to " +
        Num(ph.required_rps.value) + " req/s, soak there, " +
        (in.traffic.flash_sale_multiple > 1
             ? "spike to " + Num(ph.demand_rps.value * in.traffic.flash_sale_multiple) +
                   " req/s (" + Num(in.traffic.flash_sale_multiple) + "x flash sale), "
             : "") +
        "judged by the plan's SLOs.\n\nLoad-test plan for this phase (beyond the gate):\n\n";
  Lines(md, ph.load_test, "");
  md += "\nAs scenarios: `headroom run " + ph.stress_file + "` (the stress ramp to 3x)";
  if (!ph.chaos_file.empty()) {
    md += " and `headroom run " + ph.chaos_file + "` (each fault in a phase of its own, then a "
          "recovery phase held to the SLOs; faults by hand when their phase starts: ";
    for (size_t i = 0; i < ph.chaos.size(); ++i)
      md += (i ? "; " : "") + std::string("`") + ph.chaos[i].name + "` — " + ph.chaos[i].action +
            (ph.chaos[i].slos_hold ? ", SLOs held" : ", errors under 5 % only");
    md += ")";
  }
  md += ".\n";

  md += "\n### 12. Runbook (when autoscaling fails)\n\n";
  Lines(md, ph.runbook, "");
  md += "\n### Readiness checklist\n\n";
  Lines(md, ph.checklist, "");
  md += "\n";
}

}  // namespace

std::string MarkdownPlan(const PlanOutput& plan) {
  const PlanInput& in = plan.input;
  std::string md = "# Capacity plan: " + in.name + "\n\n";
  if (!in.description.empty()) md += in.description + "\n\n";
  md += "Inputs" + (in.source.empty() ? std::string() : " (" + in.source + ")") + ": peak " +
        Num(in.traffic.peak_rps) + " req/s (" + in.traffic.peak_source + "), growth " +
        Pct(in.traffic.growth_monthly) + " per month, daily peak factor " +
        Num(in.traffic.daily_peak_factor) + ", flash sales " +
        Num(in.traffic.flash_sale_multiple) + "x, safety factor " + Num(in.safety_factor) +
        (in.budget_monthly > 0 ? ", budget " + Money(in, in.budget_monthly) + " per month" : "") +
        ".\n\nTiers:\n\n";
  for (const TierSpec& t : in.tiers)
    md += "- " + t.name + " (" + std::string(TierKindName(t.kind)) + "): " +
          std::to_string(t.count) + " unit(s) of " + Num(t.capacity_rps) + "/s (" +
          t.capacity_source + ")" +
          (t.kind == TierKind::kDatabase
               ? ", " + Num(t.write_capacity_rps) + " writes/s (" +
                     (WriteCapacityBasis(t) == CapacityBasis(t) && t.write_capacity_source != "declared"
                          ? "the same measurement" : t.write_capacity_source) + ")"
               : "") +
          (t.measured && t.measured->watched.latency_ms ? ", latency " + LatencyText(t.measured->watched) : "") +
          ", " + Money(in, t.unit_cost) + " per unit per month.\n";
  md += "\nMethod: each phase's required capacity is demand x safety; each tier's target "
        "utilization is the highest at which an M/M/c queue of its workers keeps p95 within the "
        "tier's latency budget, capped by its ceiling; remedies are chosen as the cheapest set "
        "that brings every tier within target, listed in the order they are applied.\n\n";
  if (in.measured) Measured(md, in);
  Summary(md, plan);
  for (const PhaseResult& ph : plan.phases) {
    Assessment(md, in, ph);
    Changes(md, in, ph);
    BreaksFirst(md, ph);
    Operations(md, plan, ph);
    Enforcement(md, in, ph);
  }
  return md;
}

}  // namespace headroom::plan
