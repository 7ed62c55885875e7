#include "scenario/slo_check.h"

#include <string>

#include "core/units.h"

namespace headroom::scenario {

// Structural check: "<metric> <op> <value>" where the value is a duration, a percentage or a
// rate. The gate parses the objective fully (src/slo).
Status CheckSloText(std::string_view text) {
  size_t op = text.find_first_of("<>");
  if (op == std::string_view::npos) {
    return Fail("SLO '" + std::string(text) + "' has no comparison; write it like 'p95 < 300ms'");
  }
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  std::string_view metric = trim(text.substr(0, op));
  size_t value_at = op + 1;
  if (value_at < text.size() && text[value_at] == '=') ++value_at;
  std::string_view value = trim(text.substr(value_at));
  if (metric.empty()) return Fail("SLO '" + std::string(text) + "' has no metric before the comparison");
  if (value.empty()) return Fail("SLO '" + std::string(text) + "' has no value after the comparison");
  if (ParseDurationNs(value) || ParsePercent(value) || ParseRatePerSec(value)) return Ok();
  auto d = ParseDurationNs(value);
  return Fail("SLO '" + std::string(text) + "': " + d.error().message);
}

}  // namespace headroom::scenario
