// Data-driven tests of phase execution: each file in testdata/ is a scenario, what the fake engine
// answers second by second, and the verdicts and figures expected (format in testdata/README.md).
// No sockets, no sleeps: the fake runner replays the scripted seconds.
#include <gtest/gtest.h>

#include <random>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "exec/exec.h"
#include "exec/fake_runner.h"
#include "exec/rules.h"

namespace headroom::exec {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(HEADROOM_SOURCE_DIR) / "src/exec/testdata";

std::vector<fs::path> Cases() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The seconds of a stress step: every second at the step's rate, fast when the step should pass
// and slow (past any latency SLO in the cases) when it should fail.
std::vector<FakeSecond> StepSeconds(const engine::Config& c, bool pass) {
  const double rate = c.rate_profile.at(0).start_rps;
  const int64_t seconds = c.rate_profile.at(0).duration_ns / kSecNs;
  auto s = ParseFakeSecond(std::to_string(int64_t(std::llround(rate))) + (pass ? "@5ms" : "@900ms"));
  EXPECT_TRUE(s.has_value());
  return std::vector<FakeSecond>(size_t(seconds), *s);
}

struct Case {
  YAML::Node doc;
  scenario::Scenario scenario;
  std::atomic<bool> stop{false};
  int64_t seconds_seen = 0;
};

FakeRunner::Script ScriptOf(Case& c) {
  const YAML::Node& d = c.doc;
  return [&c, d](const engine::Config& config, int run) {
    std::vector<FakeSecond> out;
    if (d["verdicts"]) {
      const YAML::Node v = d["verdicts"];
      const bool pass = run < int(v.size()) ? v[run].as<std::string>() == "pass" : false;
      out = StepSeconds(config, pass);
    } else if (d["true_capacity"]) {
      out = StepSeconds(config, config.rate_profile.at(0).start_rps <= d["true_capacity"].as<double>());
    } else {
      const YAML::Node runs = d["runs"];
      EXPECT_LT(run, int(runs.size())) << "the case scripts fewer engine runs than the executor asked for";
      if (run >= int(runs.size())) return out;
      for (const YAML::Node& sec : runs[run]) {
        auto s = ParseFakeSecond(sec.as<std::string>());
        EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
        if (s) out.push_back(*s);
      }
    }
    return out;
  };
}

// Sets the stop flag after `stop_after_seconds` seconds, as a signal handler would.
class StopAfter final : public Progress {
 public:
  StopAfter(Case& c, int64_t after) : c_(c), after_(after) {}
  void OnSecond(const std::string&, double, const report::SecondRow&) override {
    if (++c_.seconds_seen == after_) c_.stop.store(true);
  }
  void OnNotice(const std::string& text) override { notices.push_back(text); }
  std::vector<std::string> notices;

 private:
  Case& c_;
  int64_t after_;
};

std::string Describe(const report::PhaseResult& p) {
  std::string s = std::string(report::PhaseStatusName(p.status));
  for (const report::SloResult& v : p.section.slo) s += " | " + v.expr + " " + (v.pass ? "pass" : "fail") + " " + v.observed_text;
  return s;
}

void CheckPhase(const YAML::Node& want, const report::PhaseResult& got, const std::string& where) {
  SCOPED_TRACE(where + " phase " + got.name + ": " + Describe(got));
  if (want["status"]) EXPECT_EQ(report::PhaseStatusName(got.status), want["status"].as<std::string>());
  if (want["offset_s"]) EXPECT_DOUBLE_EQ(got.offset_s, want["offset_s"].as<double>());
  if (want["elapsed_s"]) EXPECT_DOUBLE_EQ(got.elapsed_s, want["elapsed_s"].as<double>());
  if (want["requests_ok"]) EXPECT_EQ(got.section.requests_ok, want["requests_ok"].as<int64_t>());
  if (want["series"]) EXPECT_EQ(int64_t(got.series.size()), want["series"].as<int64_t>());
  if (want["slo"]) {
    std::vector<std::string> verdicts;
    for (const report::SloResult& v : got.section.slo) verdicts.push_back(v.expr + ": " + (v.pass ? "pass" : "fail"));
    EXPECT_EQ(verdicts, want["slo"].as<std::vector<std::string>>());
  }
  if (want["rates"]) {
    ASSERT_TRUE(got.stress.has_value());
    std::vector<double> rates;
    for (const report::StressPoint& p : got.stress->curve) rates.push_back(p.rate_rps);
    EXPECT_EQ(rates, want["rates"].as<std::vector<double>>());
  }
  if (want["points"]) {
    ASSERT_TRUE(got.stress.has_value());
    std::vector<std::string> points;
    for (const report::StressPoint& p : got.stress->curve) {
      const std::string verdict = p.interrupted ? "interrupted" : p.pass ? "pass" : "fail";
      points.push_back(RateText(p.rate_rps) + " " + verdict + ", achieved " + RateText(p.achieved_rps) +
                       (p.broken.empty() ? "" : ", broke: " + p.broken));
    }
    EXPECT_EQ(points, want["points"].as<std::vector<std::string>>());
  }
  if (want["capacity"]) {
    ASSERT_TRUE(got.stress.has_value());
    if (want["capacity"].as<std::string>() == "none") {
      EXPECT_FALSE(got.stress->capacity_rps.has_value());
    } else {
      ASSERT_TRUE(got.stress->capacity_rps.has_value());
      EXPECT_DOUBLE_EQ(*got.stress->capacity_rps, want["capacity"].as<double>());
    }
  }
  if (want["confirmed"]) EXPECT_EQ(got.stress->confirmed, want["confirmed"].as<bool>());
  if (want["reached_ceiling"]) EXPECT_EQ(got.stress->reached_ceiling, want["reached_ceiling"].as<bool>());
  if (want["recovery_s"]) {
    ASSERT_TRUE(got.spike.has_value());
    if (want["recovery_s"].as<std::string>() == "never") {
      EXPECT_FALSE(got.spike->recovered);
      EXPECT_FALSE(got.spike->recovery_s.has_value());
    } else {
      ASSERT_TRUE(got.spike->recovery_s.has_value());
      EXPECT_DOUBLE_EQ(*got.spike->recovery_s, want["recovery_s"].as<double>());
    }
  }
  if (want["slo_observed"]) {
    std::vector<std::string> observed;
    for (const report::SloResult& v : got.section.slo) observed.push_back(v.observed_text);
    EXPECT_EQ(observed, want["slo_observed"].as<std::vector<std::string>>());
  }
  // Soak drift figures: a number, "inf", or "none" (not measured).
  for (const char* key : {"p95_drift", "error_rate_drift", "throughput_drift"}) {
    if (!want[key]) continue;
    ASSERT_TRUE(got.soak.has_value());
    const std::string field = key;
    const std::optional<double>& value = field == "p95_drift"          ? got.soak->p95_drift
                                         : field == "error_rate_drift" ? got.soak->error_rate_drift
                                                                       : got.soak->throughput_drift;
    const std::string w = want[key].as<std::string>();
    SCOPED_TRACE(field);
    if (w == "none") {
      EXPECT_FALSE(value.has_value()) << *value;
      EXPECT_FALSE(got.soak->measured());
    } else {
      ASSERT_TRUE(value.has_value());
      if (w == "inf") {
        EXPECT_TRUE(std::isinf(*value));
      } else {
        EXPECT_NEAR(*value, want[key].as<double>(), 0.01);  // HDR buckets: 3 digits
      }
    }
  }
}

TEST(ExecCases, EveryCaseMatchesItsExpectations) {
  const std::vector<fs::path> cases = Cases();
  ASSERT_GE(cases.size(), 15u);
  for (const fs::path& path : cases) {
    SCOPED_TRACE(path.filename().string());
    Case c;
    c.doc = YAML::LoadFile(path.string());
    auto sc = scenario::LoadScenarioFromString(c.doc["scenario"].as<std::string>(), path.filename().string());
    ASSERT_TRUE(sc.has_value()) << sc.error().message;
    c.scenario = std::move(*sc);

    FakeRunner runner(ScriptOf(c));
    StopAfter progress(c, c.doc["stop_after_seconds"] ? c.doc["stop_after_seconds"].as<int64_t>() : -1);
    ExecPlan plan;
    plan.target = c.scenario.target;
    plan.scenario = c.scenario.name;
    plan.phases = c.scenario.phases;
    plan.slos = c.scenario.slos;
    plan.abort_on_fail = c.scenario.abort_on_fail;
    plan.runner = &runner;
    plan.progress = &progress;
    plan.stop = &c.stop;
    plan.stress_cool_down_ns = 0;
    auto results = Execute(plan);
    ASSERT_TRUE(results.has_value()) << results.error().message;

    const YAML::Node want = c.doc["expect"];
    EXPECT_EQ(report::VerdictName(results->verdict), want["verdict"].as<std::string>());
    if (want["engine_runs"]) EXPECT_EQ(int(runner.configs().size()), want["engine_runs"].as<int>());
    if (want["notice"]) {
      ASSERT_EQ(progress.notices.size(), 1u);
      EXPECT_NE(progress.notices[0].find(want["notice"].as<std::string>()), std::string::npos) << progress.notices[0];
      EXPECT_EQ(results->notices, progress.notices);
    } else {
      EXPECT_TRUE(progress.notices.empty());
    }
    if (want["series"]) EXPECT_EQ(int64_t(results->series.size()), want["series"].as<int64_t>());
    if (want["elapsed_s"]) EXPECT_DOUBLE_EQ(results->elapsed_s, want["elapsed_s"].as<double>());
    const YAML::Node phases = want["phases"];
    ASSERT_EQ(results->phases.size(), phases.size());
    for (size_t i = 0; i < phases.size(); ++i) CheckPhase(phases[i], results->phases[i], path.filename().string());

    // The stress cases drive the search alone too: the same rates and capacity, no engine at all.
    if (c.doc["verdicts"] && c.scenario.phases.size() == 1) {
      BreakpointSearch search(c.scenario.phases[0]);
      std::vector<double> rates;
      std::vector<int> bounds;  // steps tried + the most still to come, before each step
      size_t k = 0;
      while (auto rate = search.NextRate()) {
        bounds.push_back(int(rates.size()) + search.StepsLeftAtMost());
        rates.push_back(*rate);
        const YAML::Node v = c.doc["verdicts"];
        search.Record(*rate, k < v.size() && v[k].as<std::string>() == "pass");
        ++k;
      }
      if (phases[0]["rates"]) EXPECT_EQ(rates, phases[0]["rates"].as<std::vector<double>>());
      EXPECT_EQ(search.StepsLeftAtMost(), 0);
      for (size_t i = 0; i < bounds.size(); ++i) {
        EXPECT_GE(bounds[i], int(rates.size())) << "step " << i + 1 << " promised too few steps";
        if (i > 0) EXPECT_LE(bounds[i], bounds[i - 1]) << "the promised total grew at step " << i + 1;
      }
    }
  }
}

// "step K of at most N": over random searches and verdicts, N never undercounts the steps the search
// takes and never grows as the search goes on.
TEST(BreakpointSearchBound, NeverUndercountsNorGrows) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    scenario::Phase p;
    p.kind = scenario::PhaseKind::kStress;
    p.search = rng() % 2 ? scenario::StressSearch::kSteps : scenario::StressSearch::kExponential;
    p.from_per_sec = double(1 + rng() % 500);
    p.ceiling_per_sec = p.from_per_sec * double(1 + rng() % 64);
    p.step_per_sec = std::max(double(1 + rng() % 300), (p.ceiling_per_sec - p.from_per_sec) / 150);
    p.resolution = std::vector<double>{0.01, 0.05, 0.1, 0.5}[rng() % 4];
    p.confirm = rng() % 2;
    const double breaks_at = p.from_per_sec * double(rng() % 80) / 8.0;  // holds below this rate
    BreakpointSearch search(p);
    std::vector<int> bounds;
    int tried = 0;
    while (auto rate = search.NextRate()) {
      bounds.push_back(tried + search.StepsLeftAtMost());
      ASSERT_LT(++tried, 200);
      search.Record(*rate, *rate < breaks_at || (search.NextIsConfirmation() && rng() % 2));
    }
    for (size_t i = 0; i < bounds.size(); ++i) {
      ASSERT_GE(bounds[i], tried) << "trial " << trial << " step " << i + 1;
      if (i > 0) ASSERT_LE(bounds[i], bounds[i - 1]) << "trial " << trial << " step " << i + 1;
    }
  }
}

TEST(FakeSecond, ParsesCountsLatenciesAndErrorClasses) {
  auto s = ParseFakeSecond("90@5ms 10@800ms http_5xx=2 connect_refused=3");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->counters.ok, 100);
  EXPECT_EQ(s->counters.errors, 5);
  EXPECT_EQ(s->counters.completed, 102);  // 5xx responses came back; refused connections did not
  EXPECT_EQ(s->response_time_us.Count(), 100);
  EXPECT_EQ(s->counters.by_class[int(engine::ErrorClass::kConnectRefused)], 3);
  ASSERT_TRUE(ParseFakeSecond("-").has_value());
  EXPECT_EQ(ParseFakeSecond("-")->counters.intended, 0);
}

TEST(FakeSecond, RejectsWhatItCannotRead) {
  EXPECT_FALSE(ParseFakeSecond("ten@5ms").has_value());
  EXPECT_FALSE(ParseFakeSecond("10@5").has_value());
  EXPECT_FALSE(ParseFakeSecond("teapot=3").has_value());
  EXPECT_FALSE(ParseFakeSecond("10").has_value());
}

TEST(RunVerdict, InterruptedIsNeverAPass) {
  report::PhaseResult passed;
  passed.status = report::PhaseStatus::kPassed;
  report::PhaseResult failed;
  failed.status = report::PhaseStatus::kFailed;
  EXPECT_EQ(RunVerdict({passed}, 10, false), report::Verdict::kPass);
  EXPECT_EQ(RunVerdict({passed}, 10, true), report::Verdict::kInterrupted);
  EXPECT_EQ(RunVerdict({passed, failed}, 10, true), report::Verdict::kInterrupted);
  EXPECT_EQ(RunVerdict({passed, failed}, 10, false), report::Verdict::kFail);
  EXPECT_EQ(RunVerdict({passed}, 0, false), report::Verdict::kFail);  // nothing succeeded
  EXPECT_NE(report::VerdictExitCode(report::Verdict::kInterrupted), 0);
  EXPECT_NE(report::VerdictExitCode(report::Verdict::kInterrupted), 1);
  EXPECT_NE(report::VerdictExitCode(report::Verdict::kInterrupted), 2);
}

}  // namespace
}  // namespace headroom::exec
