// Properties over random valid plans (seeded, so every run checks the same plans): cost never falls
// as demand grows, a feasible phase holds its flash sale on every tier, autoscalers agree with the
// costed units, every gate passes `headroom validate`, and every Kubernetes name is a DNS-1123
// label. A failure prints the seed and plan index to reproduce it.
#include <unistd.h>

#include <filesystem>
#include <random>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

constexpr unsigned kSeed = 20261202;
constexpr int kPlans = 16;

class RandomPlans {
 public:
  explicit RandomPlans(unsigned seed) : rng_(seed) {}

  PlanInput Next() {
    PlanInput in;
    in.name = Pick({"shop", "Analytics SaaS (EU)", "bestellungen ü", "api_v2", "x"});
    in.remedies = DefaultRemedies().value();
    in.safety_factor = Uniform(1, 2);
    in.engineer_day_cost = Uniform(0, 800);
    in.budget_monthly = Chance(0.5) ? Uniform(500, 20000) : 0;
    TrafficSpec& t = in.traffic;
    t.peak_rps = std::exp(Uniform(std::log(5.0), std::log(5000.0)));
    t.dau = Chance(0.8) ? t.peak_rps * Uniform(10, 100) : 0;
    t.concurrent_users = t.peak_rps * Uniform(0, 5);
    t.growth_monthly = Uniform(0, 0.5);
    t.daily_peak_factor = Uniform(1.5, 4);
    t.flash_sale_multiple = Chance(0.3) ? 1 : Uniform(1, 8);
    in.slo.p95_ms = Uniform(150, 800);
    in.slo.availability = Pick({0.99, 0.999, 0.9995});
    in.slo.error_rate = Pick({0.001, 0.005, 0.01});
    if (Chance(0.5)) in.slo.job_delay_s = Uniform(30, 600);
    WorkloadSpec& w = in.workload;
    w.read_share = Uniform(0.5, 0.98);
    w.queries_per_read = Uniform(0.5, 8);
    w.reads_per_write = Uniform(0, 4);
    w.writes_per_write = Uniform(0.5, 6);
    w.cacheable_reads = Uniform(0, 0.9);
    w.edge_cacheable = Uniform(0, w.read_share);
    w.deferrable_writes = Uniform(0, 0.8);
    w.strong_reads = Uniform(0, 0.3);
    w.jobs_per_request = Chance(0.5) ? Uniform(0, 0.2) : 0;
    w.functional_domains = static_cast<int>(Uniform(1, 4));
    in.tiers.push_back(App());
    if (Chance(0.85)) in.tiers.push_back(Database());
    if (Chance(0.4)) in.tiers.push_back(Simple("redis cache", TierKind::kCache, 20000, 80000));
    if (Chance(0.3)) in.tiers.push_back(Simple("edge", TierKind::kCdn, 10000, 50000));
    if (Chance(0.4)) {
      in.tiers.push_back(Simple("jobs", TierKind::kQueue, 2000, 20000));
      in.tiers.push_back(Simple("Workers 'bulk'", TierKind::kWorkers, 20, 300));
    }
    double m = 1;
    in.multipliers.clear();
    for (int i = 0, n = static_cast<int>(Uniform(1, 5)); i < n; ++i) {
      in.multipliers.push_back(m);
      m *= Uniform(1.5, 12);
    }
    return in;
  }

 private:
  double Uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  bool Chance(double p) { return Uniform(0, 1) < p; }
  template <typename T>
  T Pick(std::initializer_list<T> items) {
    size_t i = std::uniform_int_distribution<size_t>(0, items.size() - 1)(rng_);
    return *(items.begin() + i);
  }

  TierSpec App() {
    TierSpec t;
    t.name = Pick({"app", "Bestellungen API ü", "web-1"});
    t.kind = TierKind::kApp;
    t.count = static_cast<int>(Uniform(1, 4));
    t.capacity_rps = Uniform(100, 3000);
    t.concurrency = static_cast<int>(Uniform(4, 64));
    t.unit_cost = Uniform(40, 500);
    t.connections_per_unit = static_cast<int>(Uniform(0, 100));
    t.sessions = Pick({Sessions::kNone, Sessions::kExternal, Sessions::kSticky, Sessions::kMemory});
    t.startup_s = Uniform(10, 180);
    return t;
  }

  TierSpec Database() {
    TierSpec t;
    t.name = "postgres";
    t.kind = TierKind::kDatabase;
    t.capacity_rps = Uniform(1000, 20000);
    t.write_capacity_rps = Uniform(200, 5000);
    t.concurrency = static_cast<int>(Uniform(4, 32));
    t.unit_cost = Uniform(100, 1500);
    t.max_connections = Chance(0.7) ? static_cast<int>(Uniform(100, 1000)) : 0;
    t.limited_by = Pick({Resource::kCpu, Resource::kIo});
    return t;
  }

  TierSpec Simple(const std::string& name, TierKind kind, double lo, double hi) {
    TierSpec t;
    t.name = name;
    t.kind = kind;
    t.capacity_rps = Uniform(lo, hi);
    t.concurrency = static_cast<int>(Uniform(1, 16));
    t.unit_cost = Uniform(10, 200);
    return t;
  }

  std::mt19937 rng_;
};

const std::regex kDns("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

int CostedUnits(const PhaseResult& ph, const std::string& tier) {
  for (const TierUnits& u : ph.units)
    if (u.tier == tier) return u.units;
  return -1;
}

void CheckPhase(const PhaseResult& ph, const std::string& where) {
  SCOPED_TRACE(where + " phase " + std::to_string(ph.multiplier) + "x");
  if (ph.feasible) {
    for (const LoadRow& r : ph.flash)
      EXPECT_LE(r.utilization, r.target.value + 1e-9) << r.tier << " " << r.role;
  }
  for (const Autoscaler& a : ph.autoscalers) {
    int costed = CostedUnits(ph, a.tier);
    EXPECT_GE(a.min_replicas, 1) << a.tier;
    EXPECT_LE(a.min_replicas, a.max_replicas) << a.tier;
    EXPECT_LE(a.min_replicas, costed) << a.tier;
    EXPECT_LE(costed, a.max_replicas) << a.tier;
    // What the HPA runs at the phase's required rate: ceil(units x utilization / target), never
    // below its minimum. That is the costed count.
    for (const LoadRow& r : ph.after) {
      if (r.tier != a.tier || !r.role.empty() || !ph.feasible) continue;
      double desired = std::ceil(costed * r.utilization / r.target.value - 1e-9);
      EXPECT_EQ(std::max<double>(a.min_replicas, desired), costed) << a.tier;
    }
  }
}

TEST(PlanProperties, RandomPlans) {
  RandomPlans gen(kSeed);
  // Its own folder per process: the Release and sanitizer builds may run this test at once.
  std::string dir = ::testing::TempDir() + "/headroom_random_plans." + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  int feasible_phases = 0, gates = 0;
  for (int i = 0; i < kPlans; ++i) {
    PlanInput in = gen.Next();
    std::string where = "seed " + std::to_string(kSeed) + " plan " + std::to_string(i);
    auto plan = BuildPlan(in);
    ASSERT_TRUE(plan.has_value()) << where << ": " << plan.error().message;
    double cost = 0;
    for (const PhaseResult& ph : plan->phases) {
      EXPECT_GE(ph.monthly_cost.value, cost - 1e-9) << where << " along the phases";
      cost = ph.monthly_cost.value;
      CheckPhase(ph, where);
      feasible_phases += ph.feasible;
    }
    // Separate single-phase plans at growing demand.
    double single = 0;
    for (double m : {1.0, 1.7, 3.1}) {
      PlanInput one = in;
      one.multipliers = {m};
      auto p = BuildPlan(one);
      ASSERT_TRUE(p.has_value());
      EXPECT_GE(p->phases[0].monthly_cost.value, single - 1e-9) << where << " single " << m << "x";
      single = p->phases[0].monthly_cost.value;
    }
    // Artifacts: Kubernetes names, and every gate through `headroom validate`.
    std::string out = dir + "/" + std::to_string(i);
    ASSERT_TRUE(WritePlan(*plan, out).has_value()) << where;
    for (const auto& [path, text] : RenderPlan(*plan)) {
      if (path.find("hpa.yaml") != std::string::npos) {
        for (const YAML::Node& doc : YAML::LoadAll(text)) {
          if (doc.IsNull()) continue;
          for (const std::string& name :
               {doc["metadata"]["name"].as<std::string>(),
                doc["spec"]["scaleTargetRef"]["name"].as<std::string>(),
                doc["metadata"]["labels"]["app.kubernetes.io/part-of"].as<std::string>()})
            EXPECT_TRUE(std::regex_match(name, kDns)) << where << " " << path << ": " << name;
        }
      }
      if (path.find("gate.yaml") != std::string::npos) {
        auto v = test_util::RunShell("'" + std::string(HEADROOM_BINARY) + "' validate '" + out +
                                     "/" + path + "'");
        EXPECT_EQ(v.exit_code, 0) << where << " " << path << "\n" << v.output;
        ++gates;
      }
    }
  }
  EXPECT_GT(feasible_phases, 0);  // the generator must exercise feasible phases
  EXPECT_GT(gates, kPlans);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace headroom::plan
