#include "report/hlog.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace headroom::report {
namespace {

std::string Fixed3(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// Comments must stay on one line.
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

// The date after StartTime is for people; readers take only the number before it.
std::string UtcDate(int64_t epoch_us) {
  const std::time_t secs = static_cast<std::time_t>(epoch_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool ParseDouble(std::string_view s, double& out) {
  s = Trim(s);
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out);
}

Result<HlogInterval> ParseLine(std::string_view line, size_t line_no) {
  const std::string where = "hlog line " + std::to_string(line_no) + ": ";
  HlogInterval iv;
  if (line.starts_with("Tag=")) {
    const size_t comma = line.find(',');
    if (comma == std::string_view::npos) return Fail(where + "a tag but no interval fields");
    iv.tag = std::string(line.substr(4, comma - 4));
    line.remove_prefix(comma + 1);
  }
  std::string_view fields[4];
  for (int i = 0; i < 3; ++i) {
    const size_t comma = line.find(',');
    if (comma == std::string_view::npos) {
      return Fail(where + "expected 4 comma-separated fields (start, length, max, histogram)");
    }
    fields[i] = line.substr(0, comma);
    line.remove_prefix(comma + 1);
  }
  fields[3] = Trim(line);
  if (!ParseDouble(fields[0], iv.start_s)) return Fail(where + "start timestamp is not a number");
  if (!ParseDouble(fields[1], iv.length_s)) return Fail(where + "interval length is not a number");
  if (!ParseDouble(fields[2], iv.max)) return Fail(where + "interval max is not a number");
  auto histogram = Histogram::DecodeCompressedBase64(fields[3]);
  if (!histogram) return Fail(where + histogram.error().message);
  iv.histogram = std::move(*histogram);
  return iv;
}

}  // namespace

std::string HlogHeader(const std::string& tool_version, const std::string& title, int64_t started_at_us) {
  const std::string start = Fixed3(double(started_at_us) / 1e6);
  std::string out = "#[headroom " + OneLine(tool_version) + " interval log: " + OneLine(title) + "]\n";
  out += "#[Histogram log format version 1.3]\n";
  out += "#[StartTime: " + start + " (seconds since epoch), " + UtcDate(started_at_us) + "]\n";
  out += "#[BaseTime: " + start + " (seconds since epoch)]\n";
  out += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";
  return out;
}

std::string HlogPhaseComment(const std::string& name, const std::string& kind, double offset_s) {
  return "#[Phase " + OneLine(name) + ": from " + Fixed3(offset_s) + "s " + OneLine(kind) + "]\n";
}

std::string HlogIntervalLine(double start_s, double length_s, int64_t max_us, const std::string& payload) {
  return Fixed3(start_s) + "," + Fixed3(length_s) + "," + Fixed3(double(max_us) / kHlogMaxValueUnitRatio) + "," +
         payload + "\n";
}

Result<std::vector<HlogInterval>> ParseHlog(std::string_view text) {
  std::vector<HlogInterval> intervals;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    // Legend: current logs quote "StartTimestamp"; early ones started with Timestamp.
    if (line.empty() || line.starts_with('#') || line.starts_with("\"StartTimestamp\"") ||
        line.starts_with("\"Timestamp\"") || line.starts_with("Timestamp")) {
      continue;
    }
    auto interval = ParseLine(line, line_no);
    if (!interval) return std::unexpected(interval.error());
    intervals.push_back(std::move(*interval));
  }
  return intervals;
}

}  // namespace headroom::report
