#include "report/markdown.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "report/testdata/golden.h"
#include "report/testdata/sample_results.h"

namespace headroom::report {
namespace {

TEST(MarkdownTest, GoldenSample) { fixture::ExpectGolden("summary.md", MarkdownSummary(fixture::SampleResults())); }

TEST(MarkdownTest, HeadlineSaysPassWithCounts) {
  Results r = fixture::SampleResults();
  r.verdict = Verdict::kPass;
  r.phases.resize(1);
  const std::string md = MarkdownSummary(r);
  EXPECT_EQ(md.rfind("## headroom: ✅ PASS — checkout \\& search\n\n**PASS**: 1 phase (1 passed, 0 failed, 0 skipped), "
                     "2/2 SLOs met, ",
                     0),
            0u)
      << md;
}

// A plain URL run stopped by Ctrl-C: its one phase was interrupted, not failed.
TEST(MarkdownTest, HeadlineCountsInterruptedPhasesApart) {
  Results r;
  r.target = "http://127.0.0.1:8080/";
  r.verdict = Verdict::kInterrupted;
  r.interrupted = true;
  PhaseResult run;
  run.name = "run";
  run.kind = "run";
  run.status = PhaseStatus::kInterrupted;
  r.phases = {run};
  const std::string md = MarkdownSummary(r);
  EXPECT_NE(md.find("**INTERRUPTED**: 1 phase (0 passed, 0 failed, 1 interrupted, 0 skipped), "), std::string::npos)
      << md;
  EXPECT_NE(md.find(" | ⛔ interrupted |\n"), std::string::npos) << md;
  EXPECT_EQ(md.find("❌"), std::string::npos) << md;
}

TEST(MarkdownTest, NoticesComeRightAfterTheHeadline) {
  Results r = fixture::SampleResults();
  r.notices = {"no connection to http://127.0.0.1:9/ was established in the first 3 s: every attempt failed (300 "
               "connect errors); is the server up?",
               "tier db: postgres source failed"};
  const std::string md = MarkdownSummary(r);
  const size_t phases = md.find("### Phases");
  const size_t first = md.find("\n\n> ⚠️ **Notice:** no connection to http://127.0.0.1:9/ was established in the first 3 s: "
                               "every attempt failed (300 connect errors); is the server up?\n\n");
  const size_t second = md.find("> ⚠️ **Notice:** tier db: postgres source failed\n\n");
  ASSERT_NE(first, std::string::npos) << md;
  ASSERT_NE(second, std::string::npos) << md;
  EXPECT_LT(md.find("**FAIL**: "), first);
  EXPECT_LT(first, second);
  EXPECT_LT(second, phases);
}

TEST(MarkdownTest, PipesAndMarkupInNamesDoNotBreakTables) {
  Results r;
  r.target = "http://x/";
  PhaseResult p;
  p.name = "a|b*<c>";
  p.status = PhaseStatus::kFailed;
  p.section.slo = {{"p95 | x < 1ms", 0, "2ms|3", false}, {"odd `tick`", 0, "1", true}};
  r.phases = {p};
  const std::string md = MarkdownSummary(r);
  EXPECT_NE(md.find("| a\\|b\\*\\<c\\> | `p95 \\| x < 1ms` | 2ms\\|3 | ❌ |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `` odd `tick` `` |"), std::string::npos) << md;
}

TEST(MarkdownTest, EscapesPlainText) {
  struct Case {
    std::string in, out;
  };
  const std::vector<Case> cases = {
      {"plain", "plain"}, {"a|b", "a\\|b"}, {"<script>", "\\<script\\>"}, {"x_y*z", "x\\_y\\*z"},
      {"two\nlines", "two lines"}, {"#1 & [2]", "\\#1 \\& \\[2\\]"},
  };
  for (const Case& c : cases) EXPECT_EQ(MarkdownEscape(c.in), c.out) << c.in;
}

TEST(MarkdownTest, SoakDriftFromZeroIsInfinite) {
  Results r = fixture::SampleResults();
  r.phases[2].soak->error_rate_drift = std::numeric_limits<double>::infinity();
  r.phases[2].soak->last_error_rate = 0.002;
  const std::string md = MarkdownSummary(r);
  EXPECT_NE(md.find("- error rate: 0% → 0.20% (+inf%)"), std::string::npos) << md;
}

// An interrupted soak phase whose last window never ran: no -100% drift, "not measured" instead.
TEST(MarkdownTest, SoakDriftNotMeasuredWhenAWindowIsEmpty) {
  Results r = fixture::SampleResults();
  SoakResult cut;
  cut.window_s = 10;
  cut.first_p95_us = 302'000;
  cut.first_error_rate = 0;
  r.phases[2].soak = cut;
  const std::string md = MarkdownSummary(r);
  EXPECT_NE(md.find("### Soak: soak\n\nDrift **not measured**: no request ended in the last window of 10.0s.\n\n"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("-100"), std::string::npos) << md;
}

// Ctrl-C during the 1,600 req/s step: that step is shown as interrupted, not as a failure.
TEST(MarkdownTest, InterruptedStressStepIsNotAFailure) {
  Results r = fixture::SampleResults();
  StressResult& st = *r.phases[1].stress;
  st.curve.resize(2);
  st.curve.push_back({1600, 1500, 1200, 2600, 4100, 0, false, false, "", true, {}});
  r.phases[1].status = PhaseStatus::kInterrupted;
  const std::string md = MarkdownSummary(r);
  EXPECT_NE(md.find("| 1,600 req/s | 1,500 req/s | 1.20ms | 2.60ms | 4.10ms | 0% | ⛔ interrupted (not judged) | — |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("Capacity: **800 req/s** (confirmed by a repeat); the search was interrupted, so the real capacity "
                    "may be higher"),
            std::string::npos)
      << md;
}

TEST(MarkdownTest, StressWithoutCapacitySaysSo) {
  Results r = fixture::SampleResults();
  r.phases[1].stress->capacity_rps.reset();
  const std::string md = MarkdownSummary(r);
  EXPECT_NE(md.find("Capacity: **none**"), std::string::npos) << md;
}

TEST(MarkdownTest, SpikeRecovery) {
  Results r;
  r.target = "t";
  PhaseResult p;
  p.name = "flash";
  p.status = PhaseStatus::kPassed;
  p.spike = SpikeResult{100, 600, 30, "p95 < 300ms", 4.25, true};
  r.phases = {p};
  EXPECT_NE(MarkdownSummary(r).find("100 req/s → 600 req/s for 30.0s. Recovered ✅ in **4.2s** after the hold "
                                    "(judged on `p95 < 300ms`)."),
            std::string::npos)
      << MarkdownSummary(r);
  r.phases[0].spike->recovered = false;
  r.phases[0].spike->recovery_s.reset();
  EXPECT_NE(MarkdownSummary(r).find("Did **not** recover ❌"), std::string::npos);
}

TEST(MarkdownTest, NoErrorsLine) {
  Results r;
  r.target = "t";
  EXPECT_NE(MarkdownSummary(r).find("No failed requests."), std::string::npos);
}

}  // namespace
}  // namespace headroom::report
