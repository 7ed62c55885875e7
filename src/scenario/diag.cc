#include "scenario/diag.h"

#include <algorithm>

namespace headroom::scenario {

void Diag::Add(SourcePos pos, std::string_view path, std::string_view message) {
  std::string line = file_;
  if (pos.line > 0) line += ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
  line += ": ";
  if (!path.empty()) {
    line += path;
    line += ": ";
  }
  line += message;
  entries_.push_back({pos, std::move(line)});
}

std::string Diag::Joined() const {
  std::vector<const Entry*> sorted;
  for (const Entry& e : entries_) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    if (a->pos.line != b->pos.line) return a->pos.line < b->pos.line;
    return a->pos.column < b->pos.column;
  });
  std::string out;
  for (const Entry* e : sorted) {
    if (!out.empty()) out += '\n';
    out += e->text;
  }
  return out;
}

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

namespace {

template <class Range>
std::string Suggest(std::string_view word, const Range& candidates) {
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
  if (best_name.empty()) return "";
  return "; did you mean '" + std::string(best_name) + "'?";
}

}  // namespace

std::string DidYouMean(std::string_view word, std::initializer_list<std::string_view> candidates) {
  return Suggest(word, candidates);
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return Suggest(word, views);
}

bool IsIdentifier(std::string_view s, bool with_dash) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s.substr(1)) {
    if (!alpha(c) && !(c >= '0' && c <= '9') && !(with_dash && c == '-')) return false;
  }
  return true;
}

}  // namespace headroom::scenario
