#include "core/units.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
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

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

// "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" -> epoch microseconds.
std::optional<int64_t> ParseRfc3339Us(std::string_view t) {
  auto digits = [&](size_t at, size_t n, int* out) {
    if (at + n > t.size()) return false;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) return false;
      v = v * 10 + (t[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, &year) || t.size() < 20 || t[4] != '-' || !digits(5, 2, &month) || t[7] != '-' ||
      !digits(8, 2, &day) || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(11, 2, &hour) || t[13] != ':' ||
      !digits(14, 2, &minute) || t[16] != ':' || !digits(17, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  size_t at = 19;
  int64_t frac_us = 0;
  if (at < t.size() && t[at] == '.') {
    ++at;
    int64_t scale = 100'000;
    const size_t from = at;
    while (at < t.size() && std::isdigit(static_cast<unsigned char>(t[at]))) {
      frac_us += (t[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == from) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (at < t.size() && (t[at] == 'Z' || t[at] == 'z') && at + 1 == t.size()) {
  } else if (at + 6 == t.size() && (t[at] == '+' || t[at] == '-') && t[at + 3] == ':') {
    int oh, om;
    if (!digits(at + 1, 2, &oh) || !digits(at + 4, 2, &om) || oh > 23 || om > 59) return std::nullopt;
    offset_s = (t[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(year, unsigned(month), unsigned(day));
  const int64_t epoch_s = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return epoch_s * 1'000'000 + frac_us;
}

}  // namespace

Result<int64_t> ParseStartAtUs(std::string_view text, int64_t now_us) {
  const std::string quoted = "--start-at '" + std::string(text) + "': ";
  int64_t at_us = 0;
  if (!text.empty() && text[0] == '+') {
    auto d = ParseDurationNs(text.substr(1));
    if (!d || *d < 0) return Fail(quoted + "expected +DURATION such as +30s");
    at_us = now_us + *d / 1000;
  } else if (auto rfc = ParseRfc3339Us(text)) {
    at_us = *rfc;
  } else {
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || seconds < 0) {
      return Fail(quoted + "expected a UTC time like 2026-05-01T12:00:00Z, Unix seconds like 1777636800, or +30s");
    }
    at_us = seconds * 1'000'000;
  }
  if (at_us < now_us - kStartAtPastToleranceUs) {
    char ago[64];
    std::snprintf(ago, sizeof ago, "%.1f s", double(now_us - at_us) / 1e6);
    return Fail(quoted + "that time passed " + ago + " ago (now is " + FormatUtc(now_us) +
                " by this machine's clock); give a time ahead, e.g. +30s");
  }
  if (at_us > now_us + 86'400'000'000LL) {
    return Fail(quoted + "that is more than a day ahead (" + FormatUtc(at_us) + "); Unix times are in seconds");
  }
  return at_us;
}

std::string FormatUtc(int64_t epoch_us) {
  const int64_t s = epoch_us >= 0 ? epoch_us / 1'000'000 : (epoch_us - 999'999) / 1'000'000;
  const int64_t ms = (epoch_us - s * 1'000'000) / 1000;
  int64_t z = (s >= 0 ? s : s - 86399) / 86400;
  const int64_t secs = s - z * 86400;
  // civil_from_days (Howard Hinnant)
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y0 = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = y0 + (m <= 2);
  char out[40];
  std::snprintf(out, sizeof out, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", (long long)y, m, d,
                (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60), (long long)ms);
  return out;
}

}  // namespace headroom
