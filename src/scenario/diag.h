// Error collection for scenario validation: every problem becomes one line
// "file:line:col: path: message" (1-based), and all lines are reported together, sorted by
// position. Private to the scenario library. Not thread-safe (one per load).
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/suggest.h"
#include "scenario/scenario.h"

namespace headroom::scenario {

class Diag {
 public:
  explicit Diag(std::string file) : file_(std::move(file)) {}

  // `path` is the dotted key path ("phases.climb.ramp"); may be empty.
  void Add(SourcePos pos, std::string_view path, std::string_view message);
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  // All lines sorted by (line, column), stable, joined by '\n'.
  std::string Joined() const;
  const std::string& file() const { return file_; }

 private:
  struct Entry {
    SourcePos pos;
    std::string text;
  };
  std::string file_;
  std::vector<Entry> entries_;
};

// EditDistance and DidYouMean live in core/suggest.h; scenario code calls them unqualified.
using headroom::DidYouMean;
using headroom::EditDistance;

// [A-Za-z_][A-Za-z0-9_]* (with_dash: '-' also allowed after the first character).
bool IsIdentifier(std::string_view s, bool with_dash = false);

}  // namespace headroom::scenario
