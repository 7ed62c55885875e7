// Parsing of SLO expressions. See docs/slo.md for the grammar.
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include "core/units.h"
#include "slo/tier_internal.h"

namespace headroom::slo {
namespace {

constexpr std::string_view kExample = "write it like p95 < 300ms";
constexpr std::string_view kMetricList =
    "metrics: p50, p95, p99.9 or any pNN, max, min, mean, error_rate, availability, rps, pNN_drift, "
    "error_rate_drift";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsOpChar(char c) { return c == '<' || c == '>' || c == '=' || c == '!'; }

struct ParsedMetric {
  Metric metric;
  double percentile = 0;
};

// "95", "99.9" -> the number; nullopt when the text is not a plain decimal number.
std::optional<double> ParsePlainNumber(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return std::nullopt;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return std::nullopt;
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// Returns the metric, nullopt if `name` is not a metric, or an error for a percentile out of range.
Result<std::optional<ParsedMetric>> ParseMetricName(std::string_view name) {
  if (name == "max") return ParsedMetric{Metric::kMax};
  if (name == "min") return ParsedMetric{Metric::kMin};
  if (name == "mean") return ParsedMetric{Metric::kMean};
  if (name == "error_rate") return ParsedMetric{Metric::kErrorRate};
  if (name == "availability") return ParsedMetric{Metric::kAvailability};
  if (name == "rps") return ParsedMetric{Metric::kRps};
  if (name == "error_rate_drift") return ParsedMetric{Metric::kErrorRateDrift};
  if (name.size() < 2 || name.front() != 'p') return std::optional<ParsedMetric>();
  Metric metric = Metric::kPercentile;
  std::string_view number = name.substr(1);
  constexpr std::string_view kDrift = "_drift";
  if (number.ends_with(kDrift)) {
    number.remove_suffix(kDrift.size());
    metric = Metric::kPercentileDrift;
  }
  const std::optional<double> p = ParsePlainNumber(number);
  if (!p) return std::optional<ParsedMetric>();
  if (!(*p > 0 && *p <= 100)) {
    return Fail("percentile p" + std::string(number) + " is out of range: use a value above 0 and at most 100" +
                (*p == 0 ? " (min is the smallest response time)" : ""));
  }
  return ParsedMetric{metric, *p};
}

bool IsRequestName(std::string_view name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

// A likely intended metric for a name that is not one, or empty.
std::string SuggestMetric(std::string_view name) {
  std::string fixed;
  for (char c : name) fixed += c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (fixed != name) {
    auto m = ParseMetricName(fixed);
    if (m && m->has_value()) return fixed;
  }
  struct Alias {
    std::string_view from, to;
  };
  static constexpr Alias kAliases[] = {
      {"avg", "mean"},         {"average", "mean"},    {"median", "p50"},        {"maximum", "max"},
      {"minimum", "min"},      {"errors", "error_rate"}, {"error", "error_rate"},  {"errorrate", "error_rate"},
      {"err_rate", "error_rate"}, {"failure_rate", "error_rate"}, {"throughput", "rps"}, {"qps", "rps"},
      {"tps", "rps"},          {"rate", "rps"},        {"latency", "p95"},       {"uptime", "availability"},
      {"success_rate", "availability"},
  };
  for (const Alias& a : kAliases) {
    if (fixed == a.from) return std::string(a.to);
  }
  if (fixed.size() > 1 && fixed[0] == 'p' && fixed.find("drift") != std::string::npos) return "p95_drift";
  return "";
}

enum class ThresholdKind { kDuration, kPercent, kDriftPercent, kRate };

ThresholdKind KindOf(Metric m) {
  switch (m) {
    case Metric::kPercentile:
    case Metric::kMax:
    case Metric::kMin:
    case Metric::kMean:
      return ThresholdKind::kDuration;
    case Metric::kErrorRate:
    case Metric::kAvailability:
      return ThresholdKind::kPercent;
    case Metric::kPercentileDrift:
    case Metric::kErrorRateDrift:
      return ThresholdKind::kDriftPercent;
    case Metric::kRps:
      return ThresholdKind::kRate;
    case Metric::kTier:
      break;  // tier metrics have units of their own (ParseTierThreshold)
  }
  return ThresholdKind::kDuration;
}

// Drift may exceed 100% (a doubled p95 is +100%), which ParsePercent rejects for rates.
Result<double> ParseDriftPercent(std::string_view text) {
  auto v = ParsePercent(text);
  if (v) return v;
  if (text.ends_with('%')) {
    if (auto n = ParsePlainNumber(text.substr(0, text.size() - 1))) return *n / 100;
  }
  return v;
}

Result<double> ParseThreshold(const std::string& metric_name, ThresholdKind kind, std::string_view text) {
  switch (kind) {
    case ThresholdKind::kDuration: {
      auto ns = ParseDurationNs(text);
      if (ns) return static_cast<double>(*ns) / 1000;
      if (ParsePercent(text) || ParseRatePerSec(text)) {
        return Fail(metric_name + " is a response time: compare it with a duration like 300ms, not '" +
                    std::string(text) + "'");
      }
      return std::unexpected(ns.error());
    }
    case ThresholdKind::kPercent:
    case ThresholdKind::kDriftPercent: {
      auto v = kind == ThresholdKind::kPercent ? ParsePercent(text) : ParseDriftPercent(text);
      if (v) return v;
      if (ParsePlainNumber(text)) {
        return Fail(metric_name + " is a percentage: write " + std::string(text) + "% (with the % sign)");
      }
      if (ParseDurationNs(text) || ParseRatePerSec(text)) {
        return Fail(metric_name + " is a percentage: compare it with a value like " +
                    (metric_name == "availability" ? "99.9%" : kind == ThresholdKind::kPercent ? "0.5%" : "20%") +
                    ", not '" + std::string(text) + "'");
      }
      return v;
    }
    case ThresholdKind::kRate: {
      if (auto n = ParsePlainNumber(text)) return *n;
      auto v = ParseRatePerSec(text);
      if (v) return v;
      if (ParseDurationNs(text) || ParsePercent(text)) {
        return Fail("rps is a request rate: compare it with a number like 1000 or a rate like 1000/s, not '" +
                    std::string(text) + "'");
      }
      return v;
    }
  }
  return Fail("internal: unknown threshold kind");
}

Result<Op> ParseOp(std::string_view op) {
  if (op == "<") return Op::kLt;
  if (op == "<=") return Op::kLe;
  if (op == ">") return Op::kGt;
  if (op == ">=") return Op::kGe;
  if (op == "=<") return Fail("unknown operator '=<': write <=");
  if (op == "=>") return Fail("unknown operator '=>': write >=");
  return Fail("unknown operator '" + std::string(op) + "': use <, <=, > or >=");
}

// Fills request/metric/percentile from the left-hand side ("p95", "checkout.p99.9").
Status ParseSubject(std::string_view lhs, Objective& o) {
  auto whole = ParseMetricName(lhs);
  if (!whole) return std::unexpected(whole.error());
  std::optional<ParsedMetric> metric = *whole;
  if (!metric) {
    const size_t dot = lhs.find('.');
    if (dot != std::string_view::npos) {
      auto rest = ParseMetricName(lhs.substr(dot + 1));
      if (!rest) return std::unexpected(rest.error());
      if (rest->has_value()) {
        const std::string_view name = lhs.substr(0, dot);
        if (!IsRequestName(name)) {
          return Fail("invalid request name '" + std::string(name) +
                      "': use letters, digits, _ and -, starting with a letter or _");
        }
        o.request = std::string(name);
        metric = *rest;
      }
    }
  }
  if (!metric) {
    // "db.statement_mean": a metric of the watched tier "db".
    const size_t dot = lhs.find('.');
    if (dot != std::string_view::npos && IsRequestName(lhs.substr(0, dot)) && FindTierMetric(lhs.substr(dot + 1))) {
      o.metric = Metric::kTier;
      o.tier = std::string(lhs.substr(0, dot));
      o.tier_metric = std::string(lhs.substr(dot + 1));
      return Ok();
    }
  }
  if (!metric) {
    std::string suggestion = SuggestMetric(lhs);
    const size_t dot = lhs.find('.');
    if (suggestion.empty() && dot != std::string_view::npos && IsRequestName(lhs.substr(0, dot))) {
      const std::string rest = SuggestMetric(lhs.substr(dot + 1));
      if (!rest.empty()) suggestion = std::string(lhs.substr(0, dot + 1)) + rest;
    }
    if (suggestion.empty() && dot != std::string_view::npos && IsRequestName(lhs.substr(0, dot))) {
      suggestion = SuggestTierMetric(lhs.substr(0, dot), lhs.substr(dot + 1));
    }
    return Fail("unknown metric '" + std::string(lhs) + "'" +
                (suggestion.empty() ? "" : "; did you mean " + suggestion + "?") + " (" + std::string(kMetricList) +
                ")");
  }
  o.metric = metric->metric;
  o.percentile = metric->percentile;
  return Ok();
}

}  // namespace

Result<Objective> ParseObjective(std::string_view expr) {
  expr = Trim(expr);
  if (expr.empty()) return Fail("empty SLO: " + std::string(kExample));
  size_t op_begin = 0;
  while (op_begin < expr.size() && !IsOpChar(expr[op_begin])) ++op_begin;
  if (op_begin == expr.size()) {
    return Fail("missing comparison (<, <=, > or >=): " + std::string(kExample));
  }
  size_t op_end = op_begin;
  while (op_end < expr.size() && IsOpChar(expr[op_end])) ++op_end;
  const std::string_view op_text = expr.substr(op_begin, op_end - op_begin);
  const std::string_view lhs = Trim(expr.substr(0, op_begin));
  const std::string_view rhs = Trim(expr.substr(op_end));

  auto op = ParseOp(op_text);
  if (!op) return std::unexpected(op.error());
  if (lhs.empty()) return Fail("missing metric before '" + std::string(op_text) + "': " + std::string(kExample));
  if (rhs.empty()) return Fail("missing threshold after '" + std::string(op_text) + "': " + std::string(kExample));

  Objective o;
  o.expr = std::string(expr);
  o.op = *op;
  if (auto s = ParseSubject(lhs, o); !s) return std::unexpected(s.error());
  if (o.metric == Metric::kTier) {
    auto threshold = ParseTierThreshold(*FindTierMetric(o.tier_metric), rhs);
    if (!threshold) return std::unexpected(threshold.error());
    o.threshold = *threshold;
    return o;
  }
  Objective unscoped = o;  // error hints name the metric without the request prefix
  unscoped.request.clear();
  auto threshold = ParseThreshold(MetricName(unscoped), KindOf(o.metric), rhs);
  if (!threshold) return std::unexpected(threshold.error());
  o.threshold = *threshold;
  return o;
}

}  // namespace headroom::slo
