// Replays the hand-worked HPA cases in testdata/hpa/ (format in testdata/hpa/README.md).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/sim.h"

namespace headroom::sim {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> KeyValues(std::istringstream& in, std::vector<std::string>* policies) {
  std::map<std::string, std::string> kv;
  for (std::string w; in >> w;) {
    if (w[0] == '#') break;
    auto eq = w.find('=');
    if (eq == std::string::npos) continue;
    if (w.substr(0, eq) == "policy" && policies) policies->push_back(w.substr(eq + 1));
    else kv[w.substr(0, eq)] = w.substr(eq + 1);
  }
  return kv;
}

ScalingRules ReadRules(std::istringstream& in) {
  std::vector<std::string> policies;
  auto kv = KeyValues(in, &policies);
  ScalingRules r;
  r.stabilization_s = std::stod(kv.at("stab"));
  const std::string sel = kv.at("select");
  r.select = sel == "max" ? plan::SelectPolicy::kMax
             : sel == "min" ? plan::SelectPolicy::kMin : plan::SelectPolicy::kDisabled;
  for (const std::string& p : policies) {
    std::istringstream ps(p);
    std::string type, value, period;
    std::getline(ps, type, ',');
    std::getline(ps, value, ',');
    std::getline(ps, period, ',');
    r.policies.push_back({type == "percent", std::stoi(value), std::stod(period)});
  }
  return r;
}

TEST(HpaTest, HandWorkedCases) {
  const fs::path dir = fs::path(HEADROOM_SOURCE_DIR) / "src/sim/testdata/hpa";
  int files = 0, syncs = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".txt") continue;
    ++files;
    std::ifstream file(entry.path());
    HpaSpec spec;
    std::optional<Hpa> hpa;
    int line_no = 0;
    for (std::string line; std::getline(file, line);) {
      ++line_no;
      std::istringstream in(line);
      std::string verb;
      if (!(in >> verb) || verb[0] == '#') continue;
      const std::string where = entry.path().filename().string() + ":" + std::to_string(line_no);
      if (verb == "spec") {
        auto kv = KeyValues(in, nullptr);
        spec.min_replicas = std::stoi(kv.at("min"));
        spec.max_replicas = std::stoi(kv.at("max"));
        spec.target = std::stod(kv.at("target"));
        if (kv.count("tolerance")) spec.tolerance = std::stod(kv["tolerance"]);
        if (kv.count("metric") && kv["metric"] == "value") spec.metric = MetricKind::kAverageValue;
      } else if (verb == "up") {
        spec.scale_up = ReadRules(in);
      } else if (verb == "down") {
        spec.scale_down = ReadRules(in);
      } else if (verb == "sync") {
        if (!hpa) {
          ASSERT_EQ(CheckHpa(spec), "") << where;
          hpa.emplace(spec);
        }
        auto kv = KeyValues(in, nullptr);
        const int got = hpa->Sync(std::stod(kv.at("t")), std::stoi(kv.at("current")),
                                  std::stoi(kv.at("ready")), std::stod(kv.at("metric")));
        EXPECT_EQ(got, std::stoi(kv.at("expect"))) << where << ": " << line;
        ++syncs;
      } else {
        ADD_FAILURE() << where << ": unknown line " << line;
      }
    }
  }
  EXPECT_GE(files, 12);
  EXPECT_GE(syncs, 30);
}

TEST(HpaTest, CheckHpaNamesEachProblem) {
  HpaSpec s;
  s.min_replicas = 5;
  s.max_replicas = 2;
  s.scale_up.policies[0].period_s = 0;
  const std::string text = CheckHpa(s);
  EXPECT_NE(text.find("maxReplicas 2 is below minReplicas 5"), std::string::npos) << text;
  EXPECT_NE(text.find("scale_up: a policy period must be above 0s"), std::string::npos) << text;
  EXPECT_EQ(CheckHpa(HpaSpec{}), "");
}

TEST(HpaTest, WindowsStayBoundedOverADay) {
  // A day of syncs with an oscillating metric: the controller keeps scaling and its state stays
  // within [min, max] (the deques are pruned; ASan would flag misuse).
  HpaSpec s;
  s.min_replicas = 2;
  s.max_replicas = 40;
  s.target = 0.6;
  Hpa hpa(s);
  int current = 2;
  int lo = 1000, hi = 0;
  for (double t = 0; t < kDayS; t += 15) {
    const double metric = 0.6 + 0.5 * std::sin(t / 900.0);
    current = hpa.Sync(t, current, current, std::min(1.0, std::max(0.0, metric)));
    lo = std::min(lo, current);
    hi = std::max(hi, current);
  }
  EXPECT_GE(lo, 2);
  EXPECT_LE(hi, 40);
  EXPECT_GT(hi, lo);  // it did scale
}

}  // namespace
}  // namespace headroom::sim
