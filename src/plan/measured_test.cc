// `headroom plan --results`: capacities from the tiers a run watched (docs/plan.md, "Measured
// tiers"). The shop example's run (examples/results/shop-stress.json) broke p95 < 250ms at 1,200/s
// with 1,190 req/s achieved (explain's knee); there the app's single Node process was pinned at
// 0.98 cores, PostgreSQL used 3.04 of 8 cores (38 %) and Redis was at 35 % of maxmemory.
#include <cmath>
#include <filesystem>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

using test_util::kSourceDir;
using test_util::ReadText;
using test_util::RunShell;

const std::string kBin = HEADROOM_BINARY;
const std::string kShopPlan = "examples/plans/shop-measured.yaml";
const std::string kShopRun = "examples/results/shop-stress.json";

// Parsed as the CLI would from the repository root, so that paths in sources read as given.
PlanInput Load(const std::string& plan, const std::string& results) {
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(kSourceDir);
  auto r = LoadPlanFile(plan, results);
  std::filesystem::current_path(cwd);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r.value_or(PlanInput{});
}

const TierSpec& Tier(const PlanInput& in, const std::string& name) {
  for (const TierSpec& t : in.tiers)
    if (t.name == name) return t;
  static const TierSpec kNone;
  ADD_FAILURE() << "no tier " << name;
  return kNone;
}

// Capacity per unit = the tier's load at the point's rate / the utilization of its scarcest
// resource / units. Load at 1,190 req/s with the plan's workload (90 % reads, 1 query per read,
// 1 read and 2 writes per write, 60 % cacheable at the declared 93 % hit ratio):
//   app   1,190 req/s
//   cache lookups (1,071 x 1 + 119 x 1) x 60 % = 714 ops/s
//   db    reads 1,190 - 714 x 93 % = 525.98, writes 119 x 2 = 238: 763.98 queries/s
struct Want {
  const char* tier;
  const char* resource;
  double utilization;
  double load;
};
const Want kShop[] = {
    {"app", "cpu", 0.98, 1190},             // explain: one process pinned at one core (0.98 cores)
    {"db", "cpu", 3.04 / 8, 763.98},        // process:postgres cpu_ratio 38 %
    {"cache", "memory", 0.35, 714},         // redis memory_ratio 35 %, above its main thread's 21 %
};

TEST(MeasuredPlan, CapacityIsLoadAtThePointOverUtilization) {
  PlanInput in = Load(kShopPlan, kShopRun);
  ASSERT_TRUE(in.measured.has_value());
  EXPECT_EQ(in.measured->at.phase, "find-capacity");
  EXPECT_EQ(in.measured->at.step, 3);  // the fourth rate tried: 1,200/s, the lowest that broke
  EXPECT_DOUBLE_EQ(in.measured->at.achieved_rps, 1190);
  for (const Want& w : kShop) {
    SCOPED_TRACE(w.tier);
    const TierSpec& t = Tier(in, w.tier);
    ASSERT_TRUE(t.measured.has_value());
    const TierMeasurement& m = *t.measured;
    EXPECT_EQ(m.watched.resource, w.resource);
    EXPECT_NEAR(*m.watched.utilization, w.utilization, 1e-12);
    EXPECT_NEAR(m.load, w.load, 1e-9);
    EXPECT_TRUE(m.used);
    EXPECT_FALSE(m.lower_bound);
    EXPECT_NEAR(t.capacity_rps, w.load / w.utilization, 1e-9);
    EXPECT_TRUE(t.capacity_measured);
    EXPECT_EQ(t.capacity_source.rfind("measured: " + kShopRun + ", phase find-capacity step 4 at 1,190 req/s", 0), 0u)
        << t.capacity_source;
  }
  // The users' figure: a database at 38 % when the app saturated at 1,190 req/s carries about
  // 3,100 req/s at 100 % (here in the plan's queries/s: 3,132 req/s x 0.642 queries per request).
  EXPECT_NEAR(Tier(in, "db").capacity_rps / (763.98 / 1190), 1190 / 0.38, 1e-9);
  // No write_capacity declared: writes are the run's statement mix, like reads.
  EXPECT_DOUBLE_EQ(Tier(in, "db").write_capacity_rps, Tier(in, "db").capacity_rps);
  EXPECT_EQ(Tier(in, "cache").limited_by, Resource::kMemory);
}

// At the point's rate the planner puts every measured tier at exactly its measured utilization,
// and at twice the rate at twice it: the projection is linear in load from the measurement.
TEST(MeasuredPlan, PlannerReproducesTheMeasuredUtilization) {
  for (double m : {1.0, 2.0}) {
    SCOPED_TRACE(m);
    PlanInput in = Load(kShopPlan, kShopRun);
    in.safety_factor = 1;
    in.traffic.peak_rps = 1190;
    in.multipliers = {m};  // the assessment is today's configuration at m x 1,190 req/s
    auto plan = BuildPlan(in);
    ASSERT_TRUE(plan.has_value()) << plan.error().message;
    for (const Want& w : kShop) {
      const LoadRow* row =
          test_util::Row(plan->phases[0].assessment, w.tier, std::string(w.tier) == "db" ? "primary" : "");
      ASSERT_NE(row, nullptr) << w.tier;
      EXPECT_NEAR(row->utilization, m * w.utilization, 1e-9) << w.tier;
    }
  }
}

TEST(MeasuredPlan, MeasuredOverridesDeclaredAndSaysSo) {
  PlanInput in = Load(kShopPlan, kShopRun);
  const TierSpec& db = Tier(in, "db");
  ASSERT_TRUE(db.measured && db.measured->declared_rps);
  EXPECT_DOUBLE_EQ(*db.measured->declared_rps, 5000);
  EXPECT_NEAR(db.capacity_rps, 763.98 / 0.38, 1e-9);
  const auto& notes = in.measured->notes;
  auto has = [&](const std::string& text) {
    return std::any_of(notes.begin(), notes.end(), [&](const std::string& n) { return n.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("db: measured 2,010/s per unit against 5,000/s declared")) << ::testing::PrintToString(notes);
  // A watched tier without a tier of that name in the plan is a note, not silence.
  EXPECT_TRUE(has("watched tier 'box' (host) has no tier of that name in the plan")) << ::testing::PrintToString(notes);
}

// Parses the shop example with `from` replaced by `to`, as the CLI would from the repository root.
Result<PlanInput> ShopWith(const std::string& from, const std::string& to, const std::string& results) {
  std::string text = ReadText(kSourceDir + "/" + kShopPlan);
  EXPECT_NE(text.find(from), std::string::npos) << from;
  text = std::regex_replace(text, std::regex(from), to);
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(kSourceDir);
  auto r = ParsePlanText(text, "shop.yaml", results);
  std::filesystem::current_path(cwd);
  return r;
}

TEST(MeasuredPlan, LightlyLoadedTierKeepsDeclaredOrGivesALowerBound) {
  const std::string idle = "src/plan/testdata/measured/idle_db.json";  // postgres at 3 % CPU
  auto declared = ShopWith("capacity: 5000/s, ", "capacity: 5000/s, write_capacity: 800/s, ", idle);
  ASSERT_TRUE(declared.has_value()) << declared.error().message;
  const TierSpec& db = Tier(*declared, "db");
  ASSERT_TRUE(db.measured.has_value());
  EXPECT_LT(*db.measured->watched.utilization, kMinMeasuredUtilization);
  EXPECT_FALSE(db.measured->used);
  EXPECT_DOUBLE_EQ(db.capacity_rps, 5000);
  EXPECT_EQ(db.capacity_source, "declared");
  bool noted = false;
  for (const std::string& n : declared->measured->notes) noted = noted || n.find("db: not loaded enough to measure") == 0;
  EXPECT_TRUE(noted) << ::testing::PrintToString(declared->measured->notes);

  // Without a declared capacity the measurement gives a lower bound: load / 5 %.
  auto bound = ShopWith("capacity: 5000/s, ", "", idle);
  ASSERT_TRUE(bound.has_value()) << bound.error().message;
  const TierSpec& db2 = Tier(*bound, "db");
  EXPECT_TRUE(db2.measured->used);
  EXPECT_TRUE(db2.measured->lower_bound);
  EXPECT_NEAR(db2.capacity_rps, 763.98 / kMinMeasuredUtilization, 1e-9);
  EXPECT_NE(db2.capacity_source.find("a lower bound"), std::string::npos) << db2.capacity_source;
}

// The run measured the tier as a whole: two app units today share what it carried.
TEST(MeasuredPlan, CapacityIsPerUnit) {
  auto two = ShopWith("name: app, kind: app, ", "name: app, kind: app, count: 2, ", kShopRun);
  ASSERT_TRUE(two.has_value()) << two.error().message;
  EXPECT_NEAR(Tier(*two, "app").capacity_rps, 1190 / 0.98 / 2, 1e-9);
}

// More demand never costs less with measured capacities either: along the phases, and between
// plans that differ only in today's peak.
TEST(MeasuredPlan, CostNeverFallsAsLoadRises) {
  double single = 0;
  for (const char* peak : {"100/s", "400/s", "900/s", "2000/s", "7000/s"}) {
    SCOPED_TRACE(peak);
    auto in = ShopWith("peak: 400/s", std::string("peak: ") + peak, kShopRun);
    ASSERT_TRUE(in.has_value()) << in.error().message;
    auto plan = BuildPlan(*in);
    ASSERT_TRUE(plan.has_value()) << plan.error().message;
    double cost = 0;
    for (const PhaseResult& ph : plan->phases) {
      EXPECT_GE(ph.monthly_cost.value, cost - 1e-9) << ph.multiplier << "x";
      cost = ph.monthly_cost.value;
    }
    EXPECT_GE(plan->phases[0].monthly_cost.value, single - 1e-9);
    single = plan->phases[0].monthly_cost.value;
  }
}

std::string Basis(const std::string& source) {
  if (source.rfind("measured", 0) == 0) return "measured";
  if (source.rfind("catalogue", 0) == 0) return "catalogue";
  return "declared";
}

// plan.json and plan.md mark every capacity and latency figure the same way.
TEST(MeasuredPlan, JsonAndMarkdownAgree) {
  auto plan = BuildPlan(Load(kShopPlan, kShopRun));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  auto files = RenderPlan(*plan);
  const std::string& md = files.at("plan.md");
  auto doc = nlohmann::json::parse(files.at("plan.json"));
  int measured = 0;
  for (const auto& t : doc["tiers"]) {
    const std::string name = t["name"], source = t["capacity_source"];
    SCOPED_TRACE(name);
    EXPECT_EQ(t["capacity_basis"], Basis(source));
    measured += t["capacity_basis"] == "measured";
    const std::string line = "- " + name + " (" + t["kind"].get<std::string>() + "): ";
    const size_t at = md.find(line);
    ASSERT_NE(at, std::string::npos);
    const std::string md_line = md.substr(at, md.find('\n', at) - at);
    EXPECT_NE(md_line.find("(" + source + ")"), std::string::npos) << md_line;
    EXPECT_EQ(!t["latency_ms"].is_null(), md_line.find(", latency ") != std::string::npos) << md_line;
    if (!t["latency_ms"].is_null()) {
      EXPECT_EQ(t["latency_basis"], "measured");
      EXPECT_NE(md_line.find("(measured: "), std::string::npos) << md_line;
    }
    if (t["kind"] == "database")
      EXPECT_NE(md_line.find("writes/s (" + std::string(t["write_capacity_basis"] == "measured" ? "the same measurement" : "declared")),
                std::string::npos) << md_line;
  }
  EXPECT_EQ(measured, 3);
  // Every row's capacity formula (which names its source) reads the same in both.
  for (const auto& ph : doc["phases"])
    for (const char* rows : {"assessment", "after", "flash"})
      for (const auto& r : ph[rows])
        EXPECT_NE(md.find("capacity " + r["capacity_formula"].get<std::string>()), std::string::npos)
            << r["capacity_formula"];
  // The measured tiers and explain's ranking are in both.
  ASSERT_TRUE(doc["measured"].is_object());
  EXPECT_EQ(doc["measured"]["results"], kShopRun);
  EXPECT_EQ(doc["measured"]["point"]["step"], 4);
  for (const auto& t : doc["measured"]["tiers"])
    EXPECT_NE(md.find("| " + t["tier"].get<std::string>() + " | " + t["watched"].get<std::string>() + " ("),
              std::string::npos) << t["tier"];
  ASSERT_FALSE(doc["measured"]["bottlenecks"].empty());
  for (const auto& b : doc["measured"]["bottlenecks"]) EXPECT_NE(md.find(b["title"].get<std::string>()), std::string::npos);
  EXPECT_EQ(doc["measured"]["bottlenecks"][0]["tier"], "app");
  // Each phase's assessment ranks the measured bottlenecks before the projected ones.
  size_t phases = 0;
  for (size_t at = md.find("Bottlenecks measured at the run's point"); at != std::string::npos;
       at = md.find("Bottlenecks measured at the run's point", at + 1))
    ++phases;
  EXPECT_EQ(phases, doc["phases"].size());
  for (const auto& note : doc["measured"]["notes"]) EXPECT_NE(md.find(note.get<std::string>()), std::string::npos);
}

// Each testdata/measured/errors/NAME.yaml names its results file on its first line
// ("# results: PATH"); `headroom plan` must exit 2 with exactly the lines of NAME.err.
TEST(MeasuredPlan, BadInputIsOneLineAndExitTwo) {
  const std::string dir = "src/plan/testdata/measured/errors/";
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(kSourceDir + "/" + dir))
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  EXPECT_GE(names.size(), 7u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const std::string text = ReadText(kSourceDir + "/" + dir + name + ".yaml");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(text, m, std::regex("^# results: (\\S+)")));
    const std::string out = ::testing::TempDir() + "/headroom_measured_" + name;
    auto r = RunShell("'" + kBin + "' plan " + dir + name + ".yaml --results " + m[1].str() + " --out " + out);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(r.output, ReadText(kSourceDir + "/" + dir + name + ".err"));
    EXPECT_FALSE(std::filesystem::exists(out + "/plan.md"));
  }
}

TEST(MeasuredPlan, CliWritesTheMeasuredPlan) {
  const std::string out = ::testing::TempDir() + "/headroom_measured_cli";
  std::filesystem::remove_all(out);
  auto r = RunShell("'" + kBin + "' plan " + kShopPlan + " --results " + kShopRun + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("measured in " + kShopRun), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("app 1214/s, db 2010/s, cache 2040/s"), std::string::npos) << r.output;
  auto doc = nlohmann::json::parse(ReadText(out + "/plan.json"));
  EXPECT_NEAR(doc["tiers"][0]["capacity_rps"].get<double>(), 1214.29, 1e-9);  // 1,190 / 98 %, to 0.01
}

// `headroom demo` plans only what it measured: the embedded target, as the app tier.
TEST(MeasuredPlan, DemoPlansOnlyTheTierItMeasured) {
  auto plan = BuildPlan(DemoPlanInput(2000, 25));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_EQ(plan->input.tiers.size(), 1u);
  EXPECT_EQ(plan->input.tiers[0].name, "app");
  EXPECT_TRUE(plan->input.tiers[0].capacity_measured);
  for (const PhaseResult& ph : plan->phases) {
    for (const TierUnits& u : ph.units) EXPECT_EQ(u.tier, "app") << ph.multiplier << "x";
    for (const auto* rows : {&ph.assessment, &ph.after, &ph.flash})
      for (const LoadRow& r : *rows) EXPECT_EQ(r.tier, "app") << ph.multiplier << "x";
  }
  auto doc = nlohmann::json::parse(RenderPlan(*plan).at("plan.json"));
  ASSERT_EQ(doc["tiers"].size(), 1u);
  EXPECT_EQ(doc["tiers"][0]["capacity_basis"], "measured");
}

}  // namespace
}  // namespace headroom::plan
