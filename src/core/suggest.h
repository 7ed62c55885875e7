// Did-you-mean suggestions for misspelt names (keys, metrics, source kinds). Pure, thread-safe.
#pragma once
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

// Optimal string alignment distance: insert, delete, substitute, and an adjacent swap is one edit.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` within roughly one edit per three characters (at least one,
// at most three), or "" when none is that close. Ties go to the first candidate.
std::string_view ClosestName(std::string_view word, std::span<const std::string_view> candidates);

// "; did you mean 'x'?" for ClosestName, else "".
std::string DidYouMean(std::string_view word, std::initializer_list<std::string_view> candidates);
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace headroom
