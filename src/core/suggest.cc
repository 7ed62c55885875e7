#include "core/suggest.h"

#include <algorithm>

namespace headroom {

size_t EditDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance: Levenshtein plus transposition of neighbours, which is
  // the most common typo ("wieght").
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[m];
}

std::string_view ClosestName(std::string_view word, std::span<const std::string_view> candidates) {
  // Allow roughly one edit per three characters, at least one, at most three.
  const size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  size_t best = limit + 1;
  std::string_view best_name;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best) {
      best = d;
      best_name = c;
    }
  }
  return best_name;
}

namespace {

std::string Sentence(std::string_view name) {
  return name.empty() ? "" : "; did you mean '" + std::string(name) + "'?";
}

}  // namespace

std::string DidYouMean(std::string_view word, std::initializer_list<std::string_view> candidates) {
  return Sentence(ClosestName(word, std::span<const std::string_view>(candidates.begin(), candidates.size())));
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return Sentence(ClosestName(word, views));
}

}  // namespace headroom
