// A hand-built Results shared by the golden tests (junit_test.cc, markdown_test.cc): four phases
// covering a passing baseline, a stress phase with a curve and a broken SLO, a soak phase without
// SLOs, and a skipped spike phase. Fixed values only (no clock, no randomness), so the outputs are
// byte-for-byte stable.
#pragma once
#include <cstdint>

#include "report/results.h"

namespace headroom::report::fixture {

// n values spread evenly over [lo_us, hi_us].
inline Histogram Spread(int64_t lo_us, int64_t hi_us, int n) {
  Histogram h;
  for (int i = 0; i < n; ++i) h.Record(lo_us + (hi_us - lo_us) * i / (n > 1 ? n - 1 : 1));
  return h;
}

inline Section MakeSection(const std::string& name, int64_t ok, int64_t errors, double achieved_rps,
                           std::optional<double> requested_rps, int64_t lo_us, int64_t hi_us) {
  Section s;
  s.name = name;
  s.requests_ok = ok;
  s.requests_errors = errors;
  s.requests_total = ok + errors;
  s.achieved_rps = achieved_rps;
  s.requested_rps = requested_rps;
  s.response_time_us = Spread(lo_us, hi_us, 200);
  s.service_time_us = Spread(lo_us, hi_us, 200);
  if (errors > 0) s.errors_by_class["http_5xx"] = errors;
  return s;
}

inline Results SampleResults() {
  Results r;
  r.tool_version = "0.1.0";
  r.started_at_us = 1'767'225'600'250'000;  // 2026-01-01T00:00:00.250Z
  r.target = "http://127.0.0.1:8080/checkout?a=1&b=2";
  r.scenario = "checkout & search";
  r.model = LoadModel::kOpen;
  r.arrival = "uniform";
  r.threads = 2;
  r.connections = 64;
  r.duration_s = 150;
  r.elapsed_s = 121.5;

  PhaseResult base;
  base.name = "baseline";
  base.kind = "baseline";
  base.model = LoadModel::kOpen;
  base.status = PhaseStatus::kPassed;
  base.duration_s = base.elapsed_s = 30;
  base.section = MakeSection("baseline", 3000, 0, 100, 100.0, 800, 2400);
  base.section.slo = {{"p95 < 300ms", 2320, "2.32ms", true}, {"error_rate < 0.5%", 0, "0%", true}};

  PhaseResult stress;
  stress.name = "stress";
  stress.kind = "stress";
  stress.model = LoadModel::kOpen;
  stress.status = PhaseStatus::kFailed;
  stress.duration_s = stress.elapsed_s = 60;
  stress.offset_s = 30;
  stress.section = MakeSection("stress", 71'950, 50, 1199.2, 1200.0, 900, 412'000);
  stress.section.slo = {{"p99 < 300ms", 312'400, "312.4ms", false}, {"error_rate < 1%", 0.000694, "0.07%", true}};
  StressResult curve;
  curve.capacity_rps = 800;
  curve.confirmed = true;
  curve.curve = {{400, 399.8, 1100, 2600, 4100, 0, true, false, ""},
                 {800, 799.1, 1500, 9800, 61'000, 0, true, false, ""},
                 {1600, 1421.7, 48'000, 280'000, 412'000, 0.0021, false, false, "p99 < 300ms"},
                 {800, 800.2, 1450, 9900, 60'500, 0, true, true, ""}};
  stress.stress = curve;

  PhaseResult soak;
  soak.name = "soak";
  soak.kind = "soak";
  soak.model = LoadModel::kClosed;
  soak.status = PhaseStatus::kPassed;
  soak.duration_s = soak.elapsed_s = 31.5;
  soak.offset_s = 90;
  soak.section = MakeSection("soak", 15'000, 0, 476.2, std::nullopt, 1000, 3000);
  SoakResult drift;
  drift.window_s = 10;
  drift.first_p95_us = 2800;
  drift.last_p95_us = 2950;
  drift.p95_drift = 0.0536;
  drift.p99_drift = 0.081;
  drift.throughput_drift = -0.012;
  drift.error_rate_drift = 0;
  drift.first_error_rate = drift.last_error_rate = 0;
  soak.soak = drift;

  PhaseResult spike;
  spike.name = "spike <6x>";
  spike.kind = "spike";
  spike.model = LoadModel::kOpen;
  spike.status = PhaseStatus::kSkipped;
  spike.duration_s = 30;
  spike.offset_s = 121.5;
  spike.section.name = "spike <6x>";
  spike.section.slo = {{"p95 < 500ms", 0, "", false}};

  r.phases = {base, stress, soak, spike};
  r.overall = MakeSection("overall", 89'950, 50, 740.3, std::nullopt, 800, 412'000);
  r.overall.slo.clear();
  r.verdict = Verdict::kFail;
  return r;
}

}  // namespace headroom::report::fixture
