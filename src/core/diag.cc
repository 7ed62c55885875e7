#include "core/diag.h"

#include <algorithm>

namespace headroom {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

template <class Range>
std::string Closest(std::string_view word, const Range& candidates) {
  const std::string lowered = Lowered(word);
  const size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  size_t best = limit + 1;
  std::string_view best_name;
  for (std::string_view c : candidates) {
    const size_t d = EditDistance(lowered, Lowered(c));
    if (d < best) {
      best = d;
      best_name = c;
    }
  }
  return std::string(best_name);
}

std::string Hint(const std::string& match) { return match.empty() ? "" : "; did you mean '" + match + "'?"; }

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
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

std::string ClosestMatch(std::string_view word, std::initializer_list<std::string_view> candidates) {
  return Closest(word, candidates);
}

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  return Closest(word, candidates);
}

std::string DidYouMean(std::string_view word, std::initializer_list<std::string_view> candidates) {
  return Hint(Closest(word, candidates));
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  return Hint(Closest(word, candidates));
}

}  // namespace headroom
