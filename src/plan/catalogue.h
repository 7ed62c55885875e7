// Private to src/plan: the remedies catalogue (built-in YAML plus plan-file overrides) and the
// shared tier reader. The planner knows each remedy id's semantics; the catalogue supplies the
// numbers (effect parameters, cost, effort), names, order, prerequisites and guidance.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "plan/plan.h"
#include "plan/yaml_input.h"

namespace headroom::plan {

// The remedy ids the planner implements, and the effect parameters each accepts.
const std::vector<std::string>& KnownRemedyIds();
std::vector<std::string> KnownEffectKeys(const std::string& remedy_id);

// `capacity_from_run(name)` for a tier map without `capacity`: "" when the --results run measured
// the tier called `name` (its capacity, and a database's write_capacity, may then be left out),
// otherwise why not, appended to the error.
using CapacityFromRun = std::function<std::string(const std::string& name)>;

// Reads one tier map; `read_capacity` handles the `capacity` value (a rate, or 'results').
// Without `capacity_from_run`, a missing capacity is an error.
std::optional<TierSpec> ReadTierWith(
    const YAML::Node& node, const std::string& path, Diagnostics& d,
    const std::function<void(const YAML::Node&, TierSpec&)>& read_capacity,
    const CapacityFromRun& capacity_from_run = nullptr);

// Parses a catalogue document (`remedies:` list). Used for the built-in one and in tests.
Result<std::vector<Remedy>> ParseCatalogue(const std::string& yaml_text, const std::string& source);

// Applies a plan file's `remedies:` map (id -> fields to override, or `disabled: true`).
void ApplyRemedyOverrides(const YAML::Node& overrides, std::vector<Remedy>& remedies,
                          Diagnostics& diag);

// The effect parameter `key` of `remedy`, or `fallback` when the catalogue does not set it.
double EffectParam(const Remedy& remedy, const std::string& key, double fallback);

}  // namespace headroom::plan
