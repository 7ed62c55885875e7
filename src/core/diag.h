// Did-you-mean hints for diagnostics: one rule for every file headroom reads (scenario files, plan
// files, the remedies catalogue), so that the same kind of typo gets the same hint everywhere.
//
// Comparison ignores ASCII case; the suggestion is the candidate as spelled in `candidates`.
// Thread-safety: pure functions.
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

// Optimal string alignment distance: insertions, deletions and substitutions, plus a swap of two
// neighbouring characters ("wieght") as one edit. Case-sensitive; see ClosestMatch for the rule.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, ignoring case, when it is close enough: at most
// clamp(word.size() / 3, 1, 3) edits away (one edit per three characters, at least one, at most
// three). Ties go to the earlier candidate. "" when none is close enough.
std::string ClosestMatch(std::string_view word, std::initializer_list<std::string_view> candidates);
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" with x = ClosestMatch(word, candidates), or "" when there is none: ready to
// append to a message such as "unknown key 'duraton'".
std::string DidYouMean(std::string_view word, std::initializer_list<std::string_view> candidates);
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace headroom
