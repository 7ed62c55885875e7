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
