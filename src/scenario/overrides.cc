// Command-line overrides of a loaded scenario: extra SLOs and shorter (or longer) phases.
#include <algorithm>
#include <cmath>

#include "scenario/diag.h"
#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

constexpr int64_t kSecNs = 1'000'000'000;

// Scaled to whole seconds (per-second windows need them), at least one.
int64_t ScaleSeconds(int64_t ns, double factor) {
  if (ns <= 0) return ns;
  const double s = std::round(double(ns) * factor / double(kSecNs));
  return std::max<int64_t>(1, int64_t(s)) * kSecNs;
}

}  // namespace

Status AddSlo(Scenario& s, std::string_view text) {
  auto objective = slo::ParseObjective(text);
  if (!objective) return Fail("--slo '" + std::string(text) + "': " + objective.error().message);
  SloSpec spec;
  spec.text = objective->expr;
  if (!objective->request.empty()) {
    std::vector<std::string> names;
    for (const RequestSpec& r : s.requests) names.push_back(r.name);
    if (std::find(names.begin(), names.end(), objective->request) == names.end()) {
      return Fail("--slo '" + std::string(text) + "' names request '" + objective->request + "', which does not exist" +
                  DidYouMean(objective->request, names));
    }
    spec.request = objective->request;
    spec.text = spec.text.substr(objective->request.size() + 1);
    spec.text.erase(0, spec.text.find_first_not_of(' '));
  }
  spec.objective = std::move(*objective);
  s.slos.push_back(std::move(spec));
  return {};
}

Status ScaleDurations(Scenario& s, double factor) {
  if (!(factor > 0) || factor > 1000) {
    return Fail("--duration-scale must be a factor above 0 and at most 1000, like 0.1");
  }
  for (Phase& p : s.phases) {
    p.duration_ns = ScaleSeconds(p.duration_ns, factor);
    p.step_duration_ns = ScaleSeconds(p.step_duration_ns, factor);
    p.hold_ns = ScaleSeconds(p.hold_ns, factor);
    p.window_ns = ScaleSeconds(p.window_ns, factor);
    // Keep each kind's own rules: a spike ends after its hold, a soak window fits its phase.
    if (p.kind == PhaseKind::kSpike && p.duration_ns <= p.hold_ns) p.duration_ns = p.hold_ns + kSecNs;
    if (p.window_ns > 0 && p.duration_ns > 0) p.window_ns = std::min(p.window_ns, p.duration_ns);
  }
  if (s.abort_on_fail.grace_ns > 0) s.abort_on_fail.grace_ns = int64_t(double(s.abort_on_fail.grace_ns) * factor);
  return {};
}

}  // namespace headroom::scenario
