// Load-test gates: one headroom scenario per phase (docs/scenario.md) that ramps to the phase's
// required rate, soaks there, and spikes to the flash-sale multiple, judged by the plan's SLOs.
// `headroom run artifacts/<phase>/gate.yaml` then proves the phase's capacity before it is needed.
#include <algorithm>
#include <cmath>
#include <sstream>

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

}  // namespace

std::string GateYaml(const PlanInput& in, const PhaseResult& ph) {
  const GateSpec& g = in.gate;
  std::string phase = PhaseLabel(ph.multiplier);
  double required = ph.required_rps.value;
  double flash = ph.demand_rps.value * in.traffic.flash_sale_multiple;
  std::string out;
  out += "# Load-test gate for phase " + phase + " of " + in.name + " (headroom plan).\n";
  out += "# Ramp to the required " + Rate(required) + " (" + ph.required_rps.formula + "), soak, ";
  out += in.traffic.flash_sale_multiple > 1
             ? "then spike to the " + Num(in.traffic.flash_sale_multiple) + "x flash sale.\n"
             : "no flash-sale spike (flash_sale is 1x).\n";
  out += "# Run: headroom run " + ph.gate_file + "\n";
  out += "name: " + DnsLabel(in.name) + "-gate-" + DnsLabel(phase) + "\n";
  out += "description: \"capacity gate for phase " + phase + ", month " +
         (ph.month_reached.value >= 0 ? Num(ph.month_reached.value) : std::string("n/a")) + "\"\n";
  out += "target: \"" + g.target + "\"\n";
  out += "requests:\n";
  if (!g.requests_yaml.empty()) {
    out += Indent(g.requests_yaml, "  ");
  } else {
    int reads = static_cast<int>(std::lround(in.workload.read_share * 100));
    if (reads > 0) out += "  - { name: read, weight: " + std::to_string(reads) + ", path: / }\n";
    if (reads < 100)
      out += "  - { name: write, weight: " + std::to_string(100 - reads) +
             ", method: POST, path: /, headers: { Content-Type: application/json }, body: '{}' }\n";
  }
  out += "slos: [ \"p95 < " + Millis(in.slo.p95_ms) + "\"";
  if (in.slo.p99_ms) out += ", \"p99 < " + Millis(*in.slo.p99_ms) + "\"";
  std::string err = Pct(in.slo.error_rate);
  err.erase(std::remove(err.begin(), err.end(), ' '), err.end());
  out += ", \"error_rate < " + err + "\" ]\n";
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

}  // namespace headroom::plan
