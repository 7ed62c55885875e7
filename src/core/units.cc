#include "core/units.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

namespace headroom {
namespace {

// The symbol for a unit written as a word ("minutes" -> "m"); anything else unchanged.
std::string SymbolFor(std::string_view word) {
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"nanosecond", "ns"}, {"nanoseconds", "ns"}, {"microsecond", "us"}, {"microseconds", "us"},
      {"millisecond", "ms"}, {"milliseconds", "ms"}, {"msec", "ms"},      {"second", "s"},
      {"seconds", "s"},      {"sec", "s"},           {"secs", "s"},       {"minute", "m"},
      {"minutes", "m"},      {"mins", "m"},          {"hour", "h"},        {"hours", "h"},
      {"hr", "h"},           {"hrs", "h"}};
  for (const auto& [name, symbol] : kWords) {
    if (word.size() == name.size() &&
        std::equal(word.begin(), word.end(), name.begin(), [](char a, char b) { return std::tolower(a) == b; })) {
      return std::string(symbol);
    }
  }
  return std::string(word);
}


struct Unit {
  std::string_view name;
  double factor;
};

// Splits "<number><unit>" and parses the number. Rejects spaces, signs, empty parts.
struct Split {
  double value = 0;
  std::string_view unit;
};

Result<Split> SplitNumber(std::string_view text, std::string_view what, std::string_view example) {
  if (text.empty()) return Fail(std::string("empty ") + std::string(what));
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) {
    return Fail("invalid " + std::string(what) + " '" + std::string(text) + "': expected a number like " +
                std::string(example));
  }
  Split s;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, s.value);
  if (ec != std::errc() || ptr != text.data() + i || !std::isfinite(s.value)) {
    return Fail("invalid number in " + std::string(what) + " '" + std::string(text) + "'");
  }
  s.unit = text.substr(i);
  if (!s.unit.empty() && s.unit.front() == ' ') {
    std::string compact(text.substr(0, i));
    size_t j = i;
    while (j < text.size() && text[j] == ' ') ++j;
    compact += SymbolFor(text.substr(j));
    return Fail("invalid " + std::string(what) + " '" + std::string(text) + "': write " + compact +
                ", without a space");
  }
  return s;
}

Result<double> ApplyUnit(std::string_view text, const Split& s, std::initializer_list<Unit> units,
                         std::string_view what, std::string_view example) {
  std::string names;
  for (const Unit& u : units) {
    if (s.unit == u.name) return s.value * u.factor;
    if (!names.empty()) names += ", ";
    names += u.name;
  }
  if (s.unit.empty()) {
    return Fail(std::string(what) + " '" + std::string(text) + "' has no unit: write it like " +
                std::string(example) + " (units: " + names + ")");
  }
  return Fail("unknown unit '" + std::string(s.unit) + "' in " + std::string(what) + " '" +
              std::string(text) + "' (units: " + names + ")");
}

}  // namespace

Result<int64_t> ParseDurationNs(std::string_view text) {
  auto s = SplitNumber(text, "duration", "300ms");
  if (!s) return std::unexpected(s.error());
  auto v = ApplyUnit(text, *s,
                     {{"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"min", 60e9}, {"h", 3600e9}},
                     "duration", "300ms");
  if (!v) return std::unexpected(v.error());
  if (*v > 9.2e18) return Fail("duration '" + std::string(text) + "' is too large");
  return int64_t(std::llround(*v));
}

Result<double> ParseRatePerSec(std::string_view text) {
  auto s = SplitNumber(text, "rate", "2000/s");
  if (!s) return std::unexpected(s.error());
  return ApplyUnit(text, *s,
                   {{"/s", 1.0}, {"/sec", 1.0}, {"rps", 1.0}, {"/ms", 1000.0}, {"/m", 1.0 / 60}, {"/min", 1.0 / 60},
                    {"/h", 1.0 / 3600}},
                   "rate", "2000/s");
}

Result<double> ParsePercent(std::string_view text) {
  auto s = SplitNumber(text, "percentage", "0.5%");
  if (!s) return std::unexpected(s.error());
  auto v = ApplyUnit(text, *s, {{"%", 0.01}}, "percentage", "0.5%");
  if (!v) return v;
  if (*v > 1.0) return Fail("percentage '" + std::string(text) + "' is over 100%");
  return v;
}

Result<int64_t> ParseSizeBytes(std::string_view text) {
  auto s = SplitNumber(text, "size", "16KiB");
  if (!s) return std::unexpected(s.error());
  double bytes = s->value;
  if (!s->unit.empty()) {
    auto v = ApplyUnit(text, *s,
                       {{"B", 1.0}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"KiB", 1024.0}, {"MiB", 1048576.0},
                        {"GiB", 1073741824.0}},
                       "size", "16KiB");
    if (!v) return std::unexpected(v.error());
    bytes = *v;
  }
  // Converting a double past int64's range is undefined, so reject before the cast.
  if (bytes >= 9.2e18) return Fail("size '" + std::string(text) + "' is too large");
  if (bytes != std::floor(bytes)) return Fail("size '" + std::string(text) + "' is not a whole number of bytes");
  return int64_t(bytes);
}

std::string FormatDurationUs(double us) {
  // The unit is chosen from the value as it will be printed, so 999.7us reads "1.00ms", not "1000us".
  char buf[32];
  const double magnitude = std::fabs(us);
  if (std::round(magnitude) < 1000) {
    std::snprintf(buf, sizeof buf, "%.0fus", us);
  } else if (std::round(magnitude / 10) < 100'000) {  // below 1000.00ms once rounded to 2 decimals
    std::snprintf(buf, sizeof buf, "%.2fms", us / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", us / 1e6);
  }
  return buf;
}

std::string FormatBytes(double bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  // Step up while the printed value would reach 1024 (1048575.9 bytes is "1.00MiB", not "1024.00KiB").
  while (i < 4 && (i == 0 ? std::round(bytes) : std::round(bytes * 100) / 100) >= 1024) {
    bytes /= 1024;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, i == 0 ? "%.0f%s" : "%.2f%s", bytes, kNames[i]);
  return buf;
}

std::string FormatDrift(double fraction) {
  if (std::isnan(fraction)) return "n/a";
  if (std::isinf(fraction)) return fraction > 0 ? "+inf%" : "-inf%";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.1f%%", fraction * 100);
  const std::string text = buf;
  return text == "+0.0%" || text == "-0.0%" ? "0.0%" : text;
}

std::string FormatCount(double n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", n);
  std::string digits = buf;
  size_t start = digits[0] == '-' ? 1 : 0;
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > start && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace headroom
