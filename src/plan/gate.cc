// Load-test gates: one headroom scenario per phase (docs/scenario.md) that ramps to the phase's
// required rate, soaks there, and spikes to the flash-sale multiple, judged by the plan's SLOs.
// `headroom run artifacts/<phase>/gate.yaml` then proves the phase's capacity before it is needed.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "plan/planner_internal.h"

namespace headroom::plan {
namespace {

// Rates as whole requests per second, rounded up, without thousands separators.
std::string Rate(double rps) {
  return std::to_string(std::max<long long>(1, static_cast<long long>(std::ceil(rps - 1e-9)))) +
         "/s";
}

std::string Duration(double seconds) {
  long long s = std::max<long long>(1, std::llround(seconds));
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string Millis(double ms) {
  if (ms >= 1000 && std::fmod(ms, 1000) == 0) return std::to_string(std::llround(ms / 1000)) + "s";
  return std::to_string(std::llround(ms)) + "ms";
}

std::string Indent(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) out += prefix + line + "\n";
  return out;
}

// A request weight without thousands separators: 2 significant decimals below 10.
std::string Weight(double w) {
  char buf[32];
  std::snprintf(buf, sizeof buf, w >= 10 ? "%.0f" : "%.2f", std::max(w, 0.01));
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

// The rate a phase's scenarios send: the main traffic's required rate plus every other API and
// ingestion workload's (periodic jobs are not HTTP traffic).
double ScenarioRps(const PhaseResult& ph) {
  double rps = ph.required_rps.value;
  for (const WorkloadDemand& w : ph.workloads)
    if (w.kind == "api" || w.kind == "ingestion") rps += w.required_rps.value;
  return rps;
}

// The scenario's request mix: gate.requests verbatim, or a read/write mix by read_share; then one
// request per API or ingestion workload, weighted by its rate against the main traffic's and
// judged by its own p95 objective.
std::string RequestsYaml(const PlanInput& in, const PhaseResult& ph) {
  std::string out = "requests:\n";
  double main_weight = 100;
  if (!in.gate.requests_yaml.empty()) {
    out += Indent(in.gate.requests_yaml, "  ");
    main_weight = 0;
    for (const YAML::Node& r : YAML::Load(in.gate.requests_yaml))
      main_weight += r["weight"] ? r["weight"].as<double>(1) : 1;
  } else {
    int reads = static_cast<int>(std::lround(in.workload.read_share * 100));
    if (reads > 0) out += "  - { name: read, weight: " + std::to_string(reads) + ", path: / }\n";
    if (reads < 100)
      out += "  - { name: write, weight: " + std::to_string(100 - reads) +
             ", method: POST, path: /, headers: { Content-Type: application/json }, body: '{}' }\n";
  }
  for (size_t i = 0; i < in.workloads.size(); ++i) {
    const WorkloadStream& w = in.workloads[i];
    if (w.kind == StreamKind::kPeriodic || i + 1 >= ph.workloads.size()) continue;
    const WorkloadDemand& d = ph.workloads[i + 1];  // [0] is the main traffic
    double weight = main_weight * d.required_rps.value / ph.required_rps.value;
    std::string name = DnsLabel(w.name);
    if (name == "read" || name == "write" || (name[0] >= '0' && name[0] <= '9')) name = "workload-" + name;
    out += "  - { name: " + name + ", weight: " + Weight(weight) +
           ", method: " + w.method + ", path: " + Quoted(w.path);
    if (w.method != "GET") out += ", headers: { Content-Type: application/json }, body: '{}'";
    out += ", slos: [ \"p95 < " + Millis(w.p95_ms.value_or(in.slo.p95_ms)) + "\" ] }\n";
  }
  return out;
}

// The plan's SLOs as scenario SLO strings: p95, p99 when given, error rate.
std::vector<std::string> SloList(const PlanInput& in) {
  std::vector<std::string> out = {"p95 < " + Millis(in.slo.p95_ms)};
  if (in.slo.p99_ms) out.push_back("p99 < " + Millis(*in.slo.p99_ms));
  std::string err = Pct(in.slo.error_rate);
  err.erase(std::remove(err.begin(), err.end(), ' '), err.end());
  out.push_back("error_rate < " + err);
  return out;
}

std::string Flow(const std::vector<std::string>& slos) {
  std::string out = "[";
  for (size_t i = 0; i < slos.size(); ++i) out += (i ? ", \"" : " \"") + slos[i] + "\"";
  return out + " ]";
}

std::string Header(const PlanInput& in, const PhaseResult& ph, const std::string& kind,
                   const std::string& file) {
  std::string phase = PhaseLabel(ph.multiplier);
  return "# Run: headroom run " + file + "\nname: " + DnsLabel(in.name) + "-" + kind + "-" +
         DnsLabel(phase) + "\ndescription: \"" + kind + " for phase " + phase + ", month " +
         (ph.month_reached.value >= 0 ? Num(ph.month_reached.value) : std::string("n/a")) +
         "\"\ntarget: \"" + in.gate.target + "\"\n" + RequestsYaml(in, ph);
}

}  // namespace

std::string GateYaml(const PlanInput& in, const PhaseResult& ph) {
  const GateSpec& g = in.gate;
  std::string phase = PhaseLabel(ph.multiplier);
  double required = ScenarioRps(ph);
  // The spike keeps the mix: every workload at the flash-sale multiple of its demand.
  double flash = required / in.safety_factor * in.traffic.flash_sale_multiple;
  std::string out;
  out += "# Load-test gate for phase " + phase + " of " + in.name + " (headroom plan).\n";
  out += "# Ramp to the required " + Rate(required) + " (" + ph.required_rps.formula +
         (required > ph.required_rps.value ? ", plus the other workloads" : "") + "), soak, ";
  out += in.traffic.flash_sale_multiple > 1
             ? "then spike to the " + Num(in.traffic.flash_sale_multiple) + "x flash sale.\n"
             : "no flash-sale spike (flash_sale is 1x).\n";
  std::string head = Header(in, ph, "gate", ph.gate_file);
  head.replace(head.find("description: \"gate for"), std::string("description: \"gate for").size(),
               "description: \"capacity gate for");
  out += head;
  out += "slos: " + Flow(SloList(in)) + "\n";
  out += "phases:\n";
  out += "  - { name: ramp, ramp: { from: " + Rate(required * 0.1) + ", to: " + Rate(required) +
         ", duration: " + Duration(g.ramp_s) + " } }\n";
  double window = std::min(300.0, g.soak_s / 2);
  out += "  - { name: soak, soak: { rate: " + Rate(required) + ", duration: " + Duration(g.soak_s) +
         ", window: " + Duration(window) + " }, slos: [ \"p95_drift < 20%\" ] }\n";
  if (in.traffic.flash_sale_multiple > 1) {
    out += "  - { name: flash-sale, spike: { to: " + Rate(flash) + ", hold: " +
           Duration(g.spike_hold_s) + ", duration: " + Duration(g.spike_s) + " } }\n";
  }
  return out;
}

// The load-test plan's stress step: a breakpoint search from 10 % of the required rate up to 3x it.
// The SLOs mark the knee; the phase's capacity is proven when results.json reports a capacity of
// at least the required rate.
std::string StressYaml(const PlanInput& in, const PhaseResult& ph) {
  double required = ScenarioRps(ph);
  std::string out = "# Stress test for phase " + PhaseLabel(ph.multiplier) + " of " + in.name +
                    " (headroom plan): search for the knee up to 3x the required " +
                    Rate(required) + ".\n# Pass: phases[0].stress.capacity_rps in results.json is at "
                    "least " + Rate(required) + "; \"What breaks first\" in plan.md\n# predicts the "
                    "tier that gives way.\n";
  out += Header(in, ph, "stress", ph.stress_file);
  out += "slos: " + Flow(SloList(in)) + "\n";
  out += "phases:\n  - { name: to-3x, stress: { from: " + Rate(required * 0.1) + ", ceiling: " +
         Rate(3 * required) + ", step_duration: 1m, search: exponential, resolution: 5% } }\n";
  return out;
}

// The load-test plan's chaos steps: steady traffic at the required rate, each fault in a phase of
// its own (SLOs as the plan predicts them: the full SLOs when it says they hold, else only a bound
// on errors that rules out an outage), then a recovery phase that must meet the SLOs again.
std::string ChaosYaml(const PlanInput& in, const PhaseResult& ph) {
  double required = ScenarioRps(ph);
  std::vector<std::string> full = SloList(in);
  std::string out = "# Chaos test for phase " + PhaseLabel(ph.multiplier) + " of " + in.name +
                    " (headroom plan), at the required " + Rate(required) + ".\n# Scenario files "
                    "inject no faults: do each step by hand (or by script) when its phase starts.\n";
  for (const ChaosStep& c : ph.chaos)
    out += "#   " + c.name + ": " + c.action + "; expected: " + c.effect + "\n";
  out += Header(in, ph, "chaos", ph.chaos_file);
  out += "phases:\n  - { name: steady, baseline: { rate: " + Rate(required) +
         ", duration: 5m }, slos: " + Flow(full) + " }\n";
  for (const ChaosStep& c : ph.chaos) {
    out += "  - { name: " + c.name + ", baseline: { rate: " + Rate(required) + ", duration: " +
           Duration(c.duration_s) + " }, slos: " +
           Flow(c.slos_hold ? full : std::vector<std::string>{"error_rate < 5%"}) + " }\n";
    out += "  - { name: after-" + c.name + ", baseline: { rate: " + Rate(required) +
           ", duration: 5m }, slos: " + Flow(full) + " }\n";
  }
  return out;
}

}  // namespace headroom::plan
