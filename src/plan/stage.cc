// Sizing a phase to its stage: the stage by users with the budget such teams typically spend,
// remedies that are premature for it (and the number that forces them anyway), and the phase's
// readiness checklist with what the plan already provides ticked.
#include <algorithm>
#include <cmath>

#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

struct Stage {
  double up_to_users;
  const char* name;
  const char* budget;  // typical monthly infrastructure budget, USD (stage table of the guides)
};

constexpr Stage kStages[] = {
    {100, "MVP", "50-200 USD"},
    {1000, "early traction", "200-800 USD"},
    {10000, "growth", "800-3,000 USD"},
    {100000, "scale", "3,000-15,000 USD"},
    {1e300, "at scale", "15,000-100,000+ USD"},
};

// Below this many users, sharding, Kubernetes and microservices usually cost more than they save.
constexpr double kPrematureBelowUsers = 10000;

bool InForce(const PhaseResult& ph, const std::string& id) {
  return std::find(ph.remedies.begin(), ph.remedies.end(), id) != ph.remedies.end();
}

void Premature(const Model& m, const Config& c, PhaseResult& ph, double users) {
  if (users >= kPrematureBelowUsers) return;
  std::string stage = "premature below " + Num(kPrematureBelowUsers) + " users";
  for (const char* id : {"functional_sharding", "horizontal_sharding"}) {
    if (!InForce(ph, id) || m.db < 0) continue;
    const TierSpec& db = m.tiers[m.db];
    double one_primary = db.write_capacity_rps * m.CapacityFactor(m.MaxStep(c, m.db)) *
                         (m.Has(c, "partitioning") ? m.Param("partitioning", "write_capacity_factor", 1.3) : 1) *
                         m.CeilingOf(m.db);
    const LoadRow* p = FindRow(ph.flash.empty() ? ph.after : ph.flash, db.name, "primary");
    std::string why = p ? p->load.formula : "";
    ph.premature.push_back(std::string(id) + ": " + stage + "; forced here: the primary's load at " +
                           "the sizing rate (" + why + ") is above what the largest single primary "
                           "takes at its ceiling (" + Num(one_primary) + " writes/s)");
  }
  if (!ph.autoscalers.empty()) {
    bool forced = false;
    std::string why;
    for (const Autoscaler& a : ph.autoscalers) {
      if (a.max_replicas <= a.min_replicas) continue;
      forced = true;
      why += (why.empty() ? "" : "; ") + a.tier + " must grow from " +
             std::to_string(a.min_replicas) + " to " + std::to_string(a.max_replicas) + " units";
    }
    ph.premature.push_back(
        "Kubernetes autoscaling (hpa.yaml): " + stage +
        (forced ? "; forced here by the " + Num(m.in.traffic.flash_sale_multiple) +
                      "x flash sale and the daily peak: " + why
                : "; not forced: the units never change within the phase, so a fixed pool on plain "
                  "instances does the same job"));
  }
}

void Checklist(const Model& m, const Config& c, PhaseResult& ph) {
  auto item = [&](bool done, const std::string& text) {
    ph.checklist.push_back(std::string(done ? "[x] " : "[ ] ") + text);
  };
  bool has_db = m.db >= 0 && c.tiers[m.db].present;
  if (has_db) {
    item(m.Has(c, "connection_pooling"),
         m.Has(c, "connection_pooling") ? "connection pooling (transaction-mode pooler, settings above)"
                                        : "connection pooling: not needed yet at this phase's connections; add it before the app grows");
    item(false, "automated backups with a restore tested this quarter (not planned by headroom)");
    item(c.tiers[m.db].replicas > 0,
         c.tiers[m.db].replicas > 0 ? "read replica(s): " + std::to_string(c.tiers[m.db].replicas)
                                    : "read replica: none needed yet (also a standby for failover)");
  }
  item(true, "monitoring and alerting: SLO burn-rate and saturation rules in artifacts/" +
                 PhaseDir(ph.multiplier) + "/prometheus-rules.yaml");
  item(false, "on-call rotation that receives the page-severity alerts");
  bool cache = m.cache >= 0 && c.tiers[m.cache].present;
  item(cache || m.in.workload.cacheable_reads <= 0,
       cache ? "cache for hot data" : m.in.workload.cacheable_reads <= 0
                                          ? "cache for hot data: no cacheable reads declared"
                                          : "cache for hot data: not needed yet at this phase");
  bool jobs = m.workers >= 0 && c.tiers[m.workers].present;
  item(jobs || m.in.workload.jobs_per_request <= 0,
       jobs ? "background jobs in a queue with workers"
            : "background jobs: none declared beyond the request path");
  item(!ph.autoscalers.empty(), ph.autoscalers.empty()
                                    ? "autoscaling: no stateless tier yet (see readiness)"
                                    : "autoscaling: artifacts/" + PhaseDir(ph.multiplier) + "/hpa.yaml");
  double stress_multiple = 3 * ph.required_rps.value / m.in.traffic.peak_rps;
  item(stress_multiple >= 5, "load test at 5x today's traffic: the stress ramp reaches " +
                                 Num(stress_multiple) + "x" +
                                 (stress_multiple >= 5 ? "" : "; extend it to " +
                                                                  Num(5 * m.in.traffic.peak_rps) + " req/s"));
  item(true, "load-test gate for this phase: " + ph.gate_file);
}

}  // namespace

void FillStage(const Model& m, const Config& c, PhaseResult& ph) {
  double users = ph.dau > 0 ? ph.dau : m.in.traffic.concurrent_users * ph.multiplier;
  if (users > 0) {
    for (const Stage& s : kStages) {
      if (users > s.up_to_users) continue;
      ph.stage = std::string(s.name) + " (" + Num(users) + (ph.dau > 0 ? " DAU" : " concurrent users") +
                 "; teams at this stage typically spend " + s.budget + " a month)";
      break;
    }
    Premature(m, c, ph, users);
  }
  Checklist(m, c, ph);
}

}  // namespace headroom::plan
