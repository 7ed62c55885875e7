// Typed readers for YAML values in a scenario: each reports a problem to the Diag (with the
// value's position and key path) and returns nullopt, so parsing continues and every problem is
// collected. Private to the scenario library.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scenario/diag.h"

namespace headroom::scenario {

// 1-based position of a node; {0,0} if the node has no position.
SourcePos PosOf(const YAML::Node& node);
// "a.b" + "c" -> "a.b.c" (no leading dot when base is empty).
std::string JoinPath(std::string_view base, std::string_view key);
// The value of `key` in `map`, or an undefined node. Never inserts; null values count as absent.
YAML::Node Get(const YAML::Node& map, std::string_view key);

// Returns a hint appended to the "unknown key" message, or "".
using KeyHint = std::string (*)(std::string_view key);

class Reader {
 public:
  explicit Reader(Diag& diag) : diag_(diag) {}
  Diag& diag() { return diag_; }

  // Reports `message` at `node` (or at `fallback` when node has no position).
  void Error(const YAML::Node& node, std::string_view path, std::string_view message);

  // True if `node` is a map; otherwise reports "expected a map" (+ example) and returns false.
  bool ExpectMap(const YAML::Node& node, std::string_view path, std::string_view example = "");
  // Reports keys not in `allowed` (with did-you-mean, then `hint`) and keys given twice.
  void CheckKeys(const YAML::Node& map, std::string_view path, std::initializer_list<std::string_view> allowed,
                 KeyHint hint = nullptr);
  // Reports "missing 'key'" at the map when `key` is absent; returns whether it is present.
  bool Require(const YAML::Node& map, std::string_view path, std::string_view key, std::string_view example = "");

  std::optional<std::string> String(const YAML::Node& node, std::string_view path);
  // Non-negative duration with unit ("300ms").
  std::optional<int64_t> DurationNs(const YAML::Node& node, std::string_view path);
  // Non-negative absolute rate ("200/s").
  std::optional<double> RatePerSec(const YAML::Node& node, std::string_view path);
  // Percentage with '%' ("5%") -> fraction.
  std::optional<double> Percent(const YAML::Node& node, std::string_view path);
  // Integer >= min_value.
  std::optional<int64_t> Integer(const YAML::Node& node, std::string_view path, int64_t min_value);
  // Finite number >= 0.
  std::optional<double> NonNegativeNumber(const YAML::Node& node, std::string_view path);
  std::optional<bool> Bool(const YAML::Node& node, std::string_view path);
  // Index of the value in `names`, with did-you-mean on a mismatch.
  std::optional<size_t> Enum(const YAML::Node& node, std::string_view path,
                             std::initializer_list<std::string_view> names);

  // Scalar text, or reports "expected <what>, got a map/list" and returns nullopt.
  std::optional<std::string> Scalar(const YAML::Node& node, std::string_view path, std::string_view what);
  // Reports a '-' prefix as "must not be negative"; returns true when negative.
  bool RejectNegative(const YAML::Node& node, std::string_view path, const std::string& text);

 private:
  Diag& diag_;
  // Unknown keys that were reported with a suggestion: (map, suggested key). A missing key that
  // was suggested is not reported again as missing.
  std::vector<std::pair<YAML::Node, std::string>> suggested_;
};

}  // namespace headroom::scenario
