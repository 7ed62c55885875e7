// The HTML report (docs/report.md): one self-contained page, from load graph to cost view. The page
// (web/src: markup, script, styles, with uPlot inlined by web/build.mjs at build time) is compiled
// into the binary as a template; this writes a run's data into it as JSON, which the page's script
// reads and draws. Nothing in the page is fetched at view time.
//
// The data is a view of results.json shaped for drawing (ReportData): results.json without its
// histograms and per-second rows, the per-second series as columns (rows merged into buckets past
// kMaxSeriesPoints), percentile curves computed from the HDR histograms, the watched tiers' samples
// from tiers.jsonl (headline metrics only), and the bottleneck ranking and plan when given.
//
// Pure functions of their inputs (no clock, no I/O) except WriteFileAtomic's use in callers.
// Thread-safe.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace headroom::report {

inline constexpr const char* kReportDataSchema = "headroom.report-data/1";
// Longer runs are drawn from buckets of several seconds (the worst second's percentiles, the
// bucket's mean rates), so that a 24-hour soak stays a few MB and draws in well under 2 s.
inline constexpr size_t kMaxSeriesPoints = 7200;
inline constexpr size_t kMaxTierPoints = 3600;

struct ReportInputs {
  std::string tiers_jsonl;                  // tiers.jsonl's text ("" when none)
  nlohmann::json explain = nullptr;         // explain::ToJson of the run, or null
  nlohmann::json plan = nullptr;            // a plan.json, or null
  std::string plan_source;                  // where the plan came from (shown in the page)
};

// REQUIRES: `results` is a parsed results.json (schema headroom.results/N). Errors: not one.
Result<nlohmann::json> ReportData(const nlohmann::json& results, const ReportInputs& inputs);

// The page with `data` in it. The JSON is written so that no text in it can end the <script>
// element or be read as markup: '<', '>' and '&' are \u escapes.
std::string HtmlReport(const nlohmann::json& data);

// The template compiled into the binary (web/build.mjs's output), for tests.
std::string_view HtmlTemplate();

// Parses results.json text, dropping the per-second interval histograms (not drawn, and the
// largest part of a long run's file). Errors: not JSON.
Result<nlohmann::json> ParseResultsForReport(std::string_view text);

}  // namespace headroom::report
