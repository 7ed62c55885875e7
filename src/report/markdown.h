// Markdown summary of a run for CI job summaries (GitHub's $GITHUB_STEP_SUMMARY, GitLab/other
// Markdown viewers): a PASS/FAIL headline with counts, a table of phases, the SLO verdicts per
// phase, the stress capacity and curve, spike recovery, soak drift and errors by class.
// GitHub-flavoured Markdown tables; SLO expressions in code spans; names escaped so that '|', '<',
// '*' and friends render as written. Durations via FormatDurationUs, counts via FormatCount.
// Deterministic: no clock reads, the same Results give the same bytes.
// Thread-safety: pure functions.
#pragma once
#include <string>
#include <string_view>

#include "report/results.h"

namespace headroom::report {

// `extra`: a section appended at the end (the bottleneck ranking, when tiers were watched).
std::string MarkdownSummary(const Results& r, const std::string& extra = "");

// Escapes Markdown punctuation and table pipes in plain text; newlines become spaces. For tests.
std::string MarkdownEscape(std::string_view text);

}  // namespace headroom::report
