#include "plan/yaml_input.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/diag.h"
#include "core/units.h"

namespace headroom::plan {
namespace {

std::optional<double> ParsePlainNumber(std::string_view text) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) return {};
  return v;
}

// A scalar's text, or nullopt with a diagnostic when the node is a map or a sequence.
std::optional<std::string> Scalar(const YAML::Node& node, const std::string& path, Diagnostics& d,
                                  std::string_view expected) {
  if (!node || node.IsNull()) return std::nullopt;
  if (!node.IsScalar()) {
    d.Add(node, path, "expected " + std::string(expected) + ", found a " +
                          (node.IsMap() ? "map" : "list"));
    return std::nullopt;
  }
  return node.Scalar();
}

}  // namespace

void Diagnostics::Add(const YAML::Mark& mark, const std::string& path, const std::string& message) {
  int line = mark.line + 1, col = mark.column + 1;
  std::string text = file_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
  if (!path.empty()) text += path + ": ";
  items_.push_back({line, col, text + message});
}

std::string Diagnostics::Text() const {
  std::vector<Item> sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Item& a, const Item& b) {
    return a.line != b.line ? a.line < b.line : a.col < b.col;
  });
  std::string out;
  for (const Item& item : sorted) {
    if (!out.empty()) out += '\n';
    out += item.text;
  }
  return out;
}

void CheckKeys(const YAML::Node& map, const std::string& path,
               const std::vector<std::string>& allowed, Diagnostics& diag) {
  if (!map.IsMap()) return;
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "unknown key '" + key + "'";
    std::string hint = DidYouMean(key, allowed);
    if (!hint.empty()) {
      message += hint;
    } else {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      message += " (expected one of: " + list + ")";
    }
    diag.Add(it->first, path, message);
  }
}

void CheckKeys(const YAML::Node& map, const std::string& path,
               std::initializer_list<std::string_view> allowed, Diagnostics& diag) {
  std::vector<std::string> keys(allowed.begin(), allowed.end());
  CheckKeys(map, path, keys, diag);
}

std::optional<std::string> ReadString(const YAML::Node& node, const std::string& path,
                                      Diagnostics& d) {
  return Scalar(node, path, d, "a string");
}

std::optional<double> ReadNumber(const YAML::Node& node, const std::string& path, Diagnostics& d,
                                 double min_value, double max_value) {
  auto text = Scalar(node, path, d, "a number");
  if (!text) return std::nullopt;
  auto v = ParsePlainNumber(*text);
  if (!v) {
    d.Add(node, path, "'" + *text + "' is not a number");
    return std::nullopt;
  }
  if (*v < min_value || *v > max_value) {
    d.Add(node, path, "'" + *text + "' is out of range (expected " + FormatCount(min_value) +
                          (max_value < 1e12 ? " to " + FormatCount(max_value) : " or more") + ")");
    return std::nullopt;
  }
  return v;
}

std::optional<int> ReadCount(const YAML::Node& node, const std::string& path, Diagnostics& d,
                             int min_value) {
  auto v = ReadNumber(node, path, d, min_value, 1e9);
  if (!v) return std::nullopt;
  if (*v != std::floor(*v)) {
    d.Add(node, path, "'" + node.Scalar() + "' must be a whole number");
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

std::optional<double> ReadRate(const YAML::Node& node, const std::string& path, Diagnostics& d) {
  auto text = Scalar(node, path, d, "a rate like 800/s");
  if (!text) return std::nullopt;
  auto r = ParseRatePerSec(*text);
  if (!r) {
    // "1e3/s": the unit parser reads no exponent, so spell the number out and parse again.
    double v = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && std::fabs(v) > kMaxRate)) {
      d.Add(node, path, "'" + *text + "' is out of range (above 0, at most " +
                            FormatCount(kMaxRate) + "/s)");
      return std::nullopt;
    }
    if (ec == std::errc() && std::string_view(text->data(), end - text->data()).find_first_of("eE") != std::string_view::npos) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.6f", v);
      r = ParseRatePerSec(std::string(buf) + std::string(std::string_view(end, text->data() + text->size() - end)));
    }
  }
  if (!r) {
    d.Add(node, path, r.error().message);
    return std::nullopt;
  }
  if (!(*r > 0) || *r > kMaxRate) {
    d.Add(node, path, "'" + *text + "' is out of range (above 0, at most " +
                          FormatCount(kMaxRate) + "/s)");
    return std::nullopt;
  }
  return *r;
}

std::optional<double> ReadDurationS(const YAML::Node& node, const std::string& path,
                                    Diagnostics& d) {
  auto text = Scalar(node, path, d, "a duration like 300ms");
  if (!text) return std::nullopt;
  auto ns = ParseDurationNs(*text);
  if (!ns) {
    d.Add(node, path, ns.error().message);
    return std::nullopt;
  }
  if (*ns <= 0) {
    d.Add(node, path, "duration must be above 0");
    return std::nullopt;
  }
  return static_cast<double>(*ns) / 1e9;
}

std::optional<double> ReadPercent(const YAML::Node& node, const std::string& path, Diagnostics& d,
                                  double max_value) {
  auto text = Scalar(node, path, d, "a percentage like 30%");
  if (!text) return std::nullopt;
  if (!text->empty() && (*text)[0] == '-') {  // the unit parser would only say "expected 0.5%"
    d.Add(node, path, "'" + *text + "' is negative (0% to " + FormatCount(max_value * 100) + "%)");
    return std::nullopt;
  }
  auto p = ParsePercent(*text);
  if (!p) {
    d.Add(node, path, p.error().message);
    return std::nullopt;
  }
  if (*p < 0 || *p > max_value) {
    d.Add(node, path, "'" + *text + "' is out of range (0% to " +
                          FormatCount(max_value * 100) + "%)");
    return std::nullopt;
  }
  return *p;
}

std::optional<double> ReadMultiple(const YAML::Node& node, const std::string& path,
                                   Diagnostics& d) {
  auto text = Scalar(node, path, d, "a multiple like 6x");
  if (!text) return std::nullopt;
  std::string_view body = *text;
  if (!body.empty() && (body.back() == 'x' || body.back() == 'X')) body.remove_suffix(1);
  auto v = ParsePlainNumber(body);
  if (!v) {
    d.Add(node, path, "'" + *text + "' is not a multiple (write it like 6x)");
    return std::nullopt;
  }
  if (*v < 1) {
    d.Add(node, path, "'" + *text + "' must be at least 1x");
    return std::nullopt;
  }
  if (*v > kMaxMultiple) {
    d.Add(node, path, "'" + *text + "' is out of range (1x to " + FormatCount(kMaxMultiple) + "x)");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> ReadBool(const YAML::Node& node, const std::string& path, Diagnostics& d) {
  auto text = Scalar(node, path, d, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  d.Add(node, path, "'" + *text + "' is not true or false");
  return std::nullopt;
}

std::optional<std::string> ReadChoice(const YAML::Node& node, const std::string& path,
                                      std::initializer_list<std::string_view> choices,
                                      Diagnostics& d) {
  auto text = Scalar(node, path, d, "a word");
  if (!text) return std::nullopt;
  std::vector<std::string> options(choices.begin(), choices.end());
  if (std::find(options.begin(), options.end(), *text) != options.end()) return text;
  std::string message = "'" + *text + "' is not one of: ";
  for (size_t i = 0; i < options.size(); ++i) message += (i ? ", " : "") + options[i];
  message += DidYouMean(*text, options);
  d.Add(node, path, message);
  return std::nullopt;
}

}  // namespace headroom::plan
