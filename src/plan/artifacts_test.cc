// Emitted artifacts must parse as YAML of the right kinds: autoscaling/v2 HPAs, Prometheus rule
// groups, and headroom scenarios in the shape docs/scenario.md describes.
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "plan/plan.h"
#include "plan/test_util.h"

namespace headroom::plan {
namespace {

using test_util::kSourceDir;

std::map<std::string, std::string> Files(const PlanInput& in) {
  auto plan = BuildPlan(in);
  EXPECT_TRUE(plan.has_value());
  return plan ? RenderPlan(*plan) : std::map<std::string, std::string>{};
}

std::vector<PlanInput> Inputs() {
  std::vector<PlanInput> out;
  for (const char* name : {"order-management", "analytics-saas"}) {
    auto r = LoadPlanFile(kSourceDir + "/examples/plans/" + name + ".yaml", "");
    EXPECT_TRUE(r.has_value());
    if (r) out.push_back(*r);
  }
  out.push_back(DemoPlanInput(3000, 100));
  return out;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void CheckHpa(const std::string& path, const std::string& text) {
  std::vector<YAML::Node> docs = YAML::LoadAll(text);
  int hpas = 0;
  for (const YAML::Node& doc : docs) {
    if (doc.IsNull()) continue;  // the leading comment-only document
    ++hpas;
    EXPECT_EQ(doc["apiVersion"].as<std::string>(), "autoscaling/v2") << path;
    EXPECT_EQ(doc["kind"].as<std::string>(), "HorizontalPodAutoscaler") << path;
    EXPECT_FALSE(doc["metadata"]["name"].as<std::string>().empty());
    const YAML::Node spec = doc["spec"];
    EXPECT_EQ(spec["scaleTargetRef"]["kind"].as<std::string>(), "Deployment");
    int min = spec["minReplicas"].as<int>(), max = spec["maxReplicas"].as<int>();
    EXPECT_GE(min, 1);
    EXPECT_LE(min, max) << path;
    ASSERT_TRUE(spec["metrics"].IsSequence());
    for (const YAML::Node& metric : spec["metrics"]) {
      std::string type = metric["type"].as<std::string>();
      if (type == "Resource") {
        std::string resource = metric["resource"]["name"].as<std::string>();
        EXPECT_TRUE(resource == "cpu" || resource == "memory");
        EXPECT_EQ(metric["resource"]["target"]["type"].as<std::string>(), "Utilization");
        int target = metric["resource"]["target"]["averageUtilization"].as<int>();
        EXPECT_GT(target, 0);
        EXPECT_LE(target, 100);
      } else {
        EXPECT_EQ(type, "External");
        EXPECT_FALSE(metric["external"]["metric"]["name"].as<std::string>().empty());
        EXPECT_EQ(metric["external"]["target"]["type"].as<std::string>(), "AverageValue");
      }
    }
    EXPECT_TRUE(spec["behavior"]["scaleUp"]["policies"].IsSequence());
    EXPECT_TRUE(spec["behavior"]["scaleDown"]["policies"].IsSequence());
  }
  EXPECT_GE(hpas, 1) << path;
}

void CheckRules(const std::string& path, const std::string& text) {
  YAML::Node doc = YAML::Load(text);
  ASSERT_TRUE(doc["groups"].IsSequence()) << path;
  int burn = 0, saturation = 0;
  for (const YAML::Node& group : doc["groups"]) {
    EXPECT_FALSE(group["name"].as<std::string>().empty());
    ASSERT_TRUE(group["rules"].IsSequence());
    for (const YAML::Node& rule : group["rules"]) {
      std::string alert = rule["alert"].as<std::string>();
      EXPECT_FALSE(rule["expr"].as<std::string>().empty()) << alert;
      EXPECT_TRUE(std::regex_match(rule["for"].as<std::string>(), std::regex("[0-9]+[smhd]")));
      std::string severity = rule["labels"]["severity"].as<std::string>();
      EXPECT_TRUE(severity == "page" || severity == "ticket" || severity == "warning" ||
                  severity == "critical")
          << severity;
      if (alert.rfind("ErrorBudgetBurn", 0) == 0) ++burn;
      if (EndsWith(alert, "High") || EndsWith(alert, "Critical")) ++saturation;
    }
  }
  EXPECT_EQ(burn, 3) << path;  // 14.4x 1h/5m, 6x 6h/30m, 1x 3d/6h
  EXPECT_GE(saturation, 2) << path;
  EXPECT_NE(text.find("[1h]"), std::string::npos);
  EXPECT_NE(text.find("[5m]"), std::string::npos);
  EXPECT_NE(text.find("[3d]"), std::string::npos);
}

void CheckGate(const std::string& path, const std::string& text) {
  YAML::Node doc = YAML::Load(text);
  EXPECT_FALSE(doc["name"].as<std::string>().empty()) << path;
  EXPECT_FALSE(doc["target"].as<std::string>().empty());
  ASSERT_TRUE(doc["requests"].IsSequence());
  for (const YAML::Node& r : doc["requests"]) {
    EXPECT_FALSE(r["name"].as<std::string>().empty());
    EXPECT_EQ(r["path"].as<std::string>().front(), '/');
  }
  ASSERT_TRUE(doc["slos"].IsSequence());
  EXPECT_NE(doc["slos"][0].as<std::string>().find("p95 < "), std::string::npos);
  ASSERT_TRUE(doc["phases"].IsSequence());
  std::regex rate("[0-9]+/s"), duration("[0-9]+(s|m|h)");
  bool ramp = false, soak = false;
  for (const YAML::Node& phase : doc["phases"]) {
    if (phase["ramp"]) {
      ramp = true;
      EXPECT_TRUE(std::regex_match(phase["ramp"]["to"].as<std::string>(), rate));
      EXPECT_TRUE(std::regex_match(phase["ramp"]["duration"].as<std::string>(), duration));
    }
    if (phase["soak"]) {
      soak = true;
      EXPECT_TRUE(std::regex_match(phase["soak"]["rate"].as<std::string>(), rate));
    }
    if (phase["spike"]) {
      EXPECT_TRUE(std::regex_match(phase["spike"]["to"].as<std::string>(), rate));
      EXPECT_TRUE(std::regex_match(phase["spike"]["hold"].as<std::string>(), duration));
    }
  }
  EXPECT_TRUE(ramp && soak) << path;
}

TEST(Artifacts, ParseAsYamlOfTheRightKinds) {
  int hpa = 0, rules = 0, gates = 0;
  for (const PlanInput& in : Inputs()) {
    for (const auto& [path, text] : Files(in)) {
      SCOPED_TRACE(in.name + ": " + path);
      if (EndsWith(path, "hpa.yaml")) CheckHpa(path, text), ++hpa;
      if (EndsWith(path, "prometheus-rules.yaml")) CheckRules(path, text), ++rules;
      if (EndsWith(path, "gate.yaml")) CheckGate(path, text), ++gates;
    }
  }
  EXPECT_EQ(gates, 12);
  EXPECT_EQ(rules, 12);
  EXPECT_GE(hpa, 8);
}

TEST(Artifacts, GateCarriesPlanFigures) {
  auto in = LoadPlanFile(kSourceDir + "/examples/plans/order-management.yaml", "");
  ASSERT_TRUE(in.has_value());
  auto files = Files(*in);
  YAML::Node gate = YAML::Load(files.at("artifacts/10x/gate.yaml"));
  // 10x: required 800 x 10 x 1.5 = 12,000/s; flash sale 800 x 10 x 6 = 48,000/s.
  EXPECT_EQ(gate["phases"][0]["ramp"]["to"].as<std::string>(), "12000/s");
  EXPECT_EQ(gate["phases"][1]["soak"]["rate"].as<std::string>(), "12000/s");
  EXPECT_EQ(gate["phases"][2]["spike"]["to"].as<std::string>(), "48000/s");
  EXPECT_EQ(gate["slos"][0].as<std::string>(), "p95 < 300ms");
  EXPECT_EQ(gate["slos"][2].as<std::string>(), "error_rate < 0.5%");
}

TEST(Artifacts, UserRequestsAreCopiedIntoGates) {
  std::string text = R"(name: custom-gate
traffic: { peak: 100/s }
slos: { p95: 200ms }
tiers:
  - { name: app, kind: app, capacity: 500/s, unit_cost: 100 }
gate:
  target: http://127.0.0.1:9000
  requests:
    - { name: home, weight: 3, path: / }
    - { name: item, weight: 1, path: "/items/{{ randint(1, 100) }}" }
)";
  auto in = ParsePlanText(text, "custom.yaml", "");
  ASSERT_TRUE(in.has_value()) << in.error().message;
  auto files = Files(*in);
  YAML::Node gate = YAML::Load(files.at("artifacts/1x/gate.yaml"));
  EXPECT_EQ(gate["target"].as<std::string>(), "http://127.0.0.1:9000");
  ASSERT_EQ(gate["requests"].size(), 2u);
  EXPECT_EQ(gate["requests"][1]["path"].as<std::string>(), "/items/{{ randint(1, 100) }}");
  EXPECT_EQ(gate["requests"][0]["weight"].as<int>(), 3);
}

}  // namespace
}  // namespace headroom::plan
