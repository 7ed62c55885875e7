// nginx/Apache access logs -> the request mix (shapes weighted by count) and a replay of the
// log's arrival curve, read in one streaming pass.
#include <array>
#include <charconv>
#include <cmath>

#include "importer/log_model.h"

namespace headroom::importer {
namespace {

// Lines longer than this are counted as malformed without being kept whole.
constexpr size_t kMaxLineBytes = 16 * 1024;
constexpr size_t kChunkBytes = 1 << 20;

// Days since 1970-01-01 of a proleptic Gregorian date (the usual era-based computation).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "10/Oct/2000:13:55:36 -0700" -> Unix seconds.
Result<int64_t> ParseLogTime(std::string_view t) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t day = 0, year = 0, hh = 0, mm = 0, ss = 0, zh = 0, zm = 0;
  if (t.size() != 26 || !Digits(t, 0, 2, day) || t[2] != '/' || t[6] != '/' || !Digits(t, 7, 4, year) ||
      t[11] != ':' || !Digits(t, 12, 2, hh) || t[14] != ':' || !Digits(t, 15, 2, mm) || t[17] != ':' ||
      !Digits(t, 18, 2, ss) || t[20] != ' ' || (t[21] != '+' && t[21] != '-') || !Digits(t, 22, 2, zh) ||
      !Digits(t, 24, 2, zm)) {
    return Fail("time '" + Shown(t, 40) + "' is not like 10/Oct/2000:13:55:36 -0700");
  }
  int64_t month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (t.substr(3, 3) == kMonths[i]) month = int64_t(i) + 1;
  }
  if (month == 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) {
    return Fail("time '" + Shown(t) + "' is out of range");
  }
  const int64_t zone_s = (zh * 3600 + zm * 60) * (t[21] == '-' ? -1 : 1);
  return DaysFromCivil(year, month, day) * 86400 + hh * 3600 + mm * 60 + ss - zone_s;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// nginx and Apache write '"', '\' and non-printable bytes of the request line as \xHH (Apache
// also as \"): back to the bytes that were sent.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && HexDigit(s[i + 2]) >= 0 && HexDigit(s[i + 3]) >= 0) {
      out += char(HexDigit(s[i + 2]) * 16 + HexDigit(s[i + 3]));
      i += 3;
    } else if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) {
      out += s[++i];
    } else {
      out += s[i];
    }
  }
  return out;
}

// The quoted request at line[pos] (just after the opening quote); returns the closing quote's index.
size_t FindClosingQuote(std::string_view line, size_t pos) {
  for (size_t i = pos; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (line[i] == '"') {
      return i;
    }
  }
  return std::string_view::npos;
}

Result<LogLine> ParseRequestLine(std::string_view request, LogLine out) {
  const size_t sp1 = request.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return Fail("request '" + Shown(request, 60) + "' is not METHOD TARGET PROTOCOL");
  const size_t sp2 = request.find(' ', sp1 + 1);
  out.method = std::string(request.substr(0, sp1));
  for (char c : out.method) {
    if (c < 'A' || c > 'Z') return Fail("request '" + Shown(request, 60) + "' does not start with a method");
  }
  std::string_view target = request.substr(sp1 + 1, sp2 == std::string_view::npos ? std::string_view::npos : sp2 - sp1 - 1);
  if (sp2 != std::string_view::npos && !request.substr(sp2 + 1).starts_with("HTTP/")) {
    return Fail("request '" + Shown(request, 60) + "' does not end with HTTP/x");
  }
  std::string t = Unescape(target);
  if (t.starts_with("http://") || t.starts_with("https://")) {  // absolute form (proxies)
    const size_t slash = t.find('/', t.find("://") + 3);
    t = slash == std::string::npos ? "/" : t.substr(slash);
  }
  if (t.empty() || t[0] != '/') return Fail("request target '" + Shown(t, 60) + "' does not start with '/'");
  out.target = std::move(t);
  return out;
}

}  // namespace

Result<LogLine> ParseAccessLogLine(std::string_view line) {
  const size_t open = line.find('[');
  const size_t close = open == std::string_view::npos ? open : line.find(']', open);
  if (close == std::string_view::npos) return Fail("no [time] field");
  auto time = ParseLogTime(line.substr(open + 1, close - open - 1));
  if (!time) return std::unexpected(time.error());
  LogLine out;
  out.time_s = *time;
  if (line.substr(close + 1, 2) != " \"") return Fail("no quoted request after the time");
  const size_t end = FindClosingQuote(line, close + 3);
  if (end == std::string_view::npos) return Fail("the quoted request is not closed");
  auto parsed = ParseRequestLine(line.substr(close + 3, end - close - 3), std::move(out));
  if (!parsed) return parsed;
  int64_t status = 0;
  if (line.substr(end + 1, 1) != " " || !Digits(line, end + 2, 3, status) ||
      (end + 5 < line.size() && line[end + 5] != ' ')) {
    return Fail("no status code after the request");
  }
  parsed->status = int(status);
  return parsed;
}

Result<double> ParseSpeed(std::string_view text) {
  std::string_view num = text;
  if (!num.empty() && (num.back() == 'x' || num.back() == 'X')) num.remove_suffix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (num.empty() || ec != std::errc() || ptr != num.data() + num.size() || !std::isfinite(v) || v <= 0 || v > 1e6) {
    return Fail("speed '" + Shown(text) + "' is not a positive multiple like 3x or 0.5x");
  }
  return v;
}

namespace {

class LogImporter {
 public:
  explicit LogImporter(const Options& options)
      : options_(options), shapes_(std::max(options.max_tracked_shapes, options.max_requests)),
        curve_(options.step_s) {}

  void Line(std::string_view line, uint64_t number) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return;
    auto parsed = ParseAccessLogLine(line);
    if (!parsed) return Malformed(number, parsed.error().message);
    curve_.Add(parsed->time_s);
    if (!IsSupportedMethod(parsed->method)) {
      ++other_methods_;
      return;
    }
    if (parsed->target.size() > kMaxTargetBytes) {
      ++too_long_targets_;
      return;
    }
    shapes_.Add(parsed->method, parsed->target);
  }

  void Malformed(uint64_t number, const std::string& why) {
    if (malformed_++ == 0) first_malformed_ = "line " + std::to_string(number) + ": " + why;
  }

  Result<Imported> Finish();

 private:
  std::vector<std::string> Notes(size_t written, uint64_t left_out_requests, size_t left_out_shapes) const;

  const Options& options_;
  ShapeTable shapes_;
  ArrivalCurve curve_;
  uint64_t malformed_ = 0;
  std::string first_malformed_;
  uint64_t other_methods_ = 0;
  uint64_t too_long_targets_ = 0;
};

std::vector<std::string> LogImporter::Notes(size_t written, uint64_t left_out_requests, size_t left_out_shapes) const {
  std::vector<std::string> notes;
  notes.push_back(std::to_string(curve_.total()) + " requests over " + std::to_string(curve_.span_s()) + " s; " +
                  std::to_string(written) + " request shape(s) written");
  if (malformed_ > 0) {
    notes.push_back(std::to_string(malformed_) + " malformed line(s) skipped; first at " + first_malformed_);
  }
  if (left_out_requests > 0) {
    notes.push_back(std::to_string(left_out_requests) + " request(s) in " + std::to_string(left_out_shapes) +
                    (left_out_shapes == 1 ? " less frequent shape" : "+ less frequent shapes") +
                    " left out of the mix (at most " + std::to_string(options_.max_requests) +
                    " are written); the replay rate still includes them");
  }
  if (other_methods_ > 0) {
    notes.push_back(std::to_string(other_methods_) + " request(s) with another method than GET, HEAD, POST, PUT, "
                    "PATCH, DELETE, OPTIONS left out of the mix");
  }
  if (too_long_targets_ > 0) {
    notes.push_back(std::to_string(too_long_targets_) + " request(s) with a target over " +
                    std::to_string(kMaxTargetBytes) + " bytes left out of the mix");
  }
  if (curve_.width_s() != options_.step_s) {
    notes.push_back("the log spans " + std::to_string(curve_.span_s()) + " s, so each replay phase covers " +
                    std::to_string(curve_.width_s()) + " s (at most " + std::to_string(kMaxCurveBuckets) + " phases)");
  }
  if (options_.target.empty()) {
    notes.push_back("an access log does not name its host: the target is ${TARGET_URL:-http://127.0.0.1:8080}; "
                    "set TARGET_URL or pass --target");
  }
  notes.push_back("bodies are not in access logs: POST/PUT/PATCH requests are written without one");
  return notes;
}

Result<Imported> LogImporter::Finish() {
  if (curve_.total() == 0) {
    if (malformed_ > 0) return Fail("no line is in combined or common log format; first problem at " + first_malformed_);
    return Fail("the log is empty");
  }
  const std::vector<const Shape*> ranked = shapes_.Ranked();
  DraftScenario draft;
  draft.name = options_.name.empty() ? "access-log import" : options_.name;
  draft.target = options_.target.empty() ? "${TARGET_URL:-http://127.0.0.1:8080}" : options_.target;
  draft.description = "Imported by headroom import from an access log of " + std::to_string(curve_.total()) +
                      " requests; the phases replay its arrival curve";
  char speed[32];
  std::snprintf(speed, sizeof speed, "%g", options_.speed);
  if (options_.speed != 1.0) draft.description += std::string(" at ") + speed + "x";
  uint64_t left_out = shapes_.untracked();
  for (size_t i = 0; i < ranked.size(); ++i) {
    if (i >= options_.max_requests) {
      left_out += ranked[i]->count;
      continue;
    }
    DraftRequest r;
    r.name_hint = ShapeNameHint(*ranked[i]);
    r.weight = double(ranked[i]->count);
    r.method = ranked[i]->method;
    r.path = ShapePath(*ranked[i]);
    draft.requests.push_back(std::move(r));
  }
  const size_t written = draft.requests.size();
  if (written == 0) return Fail("no request in the log has a method and target that can be imported");
  draft.phases = curve_.ToPhases(options_.speed);
  const size_t left_shapes = ranked.size() - written + shapes_.pruned_shapes();
  std::vector<std::string> notes = Notes(written, left_out, left_shapes);
  KeepTargetRunnable(draft, notes);
  return Imported{WriteScenarioYaml(draft), std::move(notes)};
}

}  // namespace

Result<Imported> ImportAccessLog(std::istream& log, const Options& options) {
  if (!(options.speed > 0) || options.max_requests == 0) return Fail("speed must be above 0 and max_requests at least 1");
  LogImporter importer(options);
  std::vector<char> chunk(kChunkBytes);
  std::string partial;  // the start of a line that continues in the next chunk
  bool overlong = false;
  uint64_t number = 1;
  while (log) {
    log.read(chunk.data(), std::streamsize(chunk.size()));
    const std::string_view data(chunk.data(), size_t(log.gcount()));
    if (data.empty()) break;
    size_t pos = 0;
    while (pos < data.size()) {
      const size_t nl = data.find('\n', pos);
      const std::string_view piece = data.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      if (!overlong && partial.size() + piece.size() > kMaxLineBytes) {
        overlong = true;
        partial.clear();
      }
      if (!overlong) partial += piece;
      if (nl == std::string_view::npos) break;
      if (overlong) {
        importer.Malformed(number, "line longer than " + std::to_string(kMaxLineBytes) + " bytes");
      } else {
        importer.Line(partial, number);
      }
      partial.clear();
      overlong = false;
      ++number;
      pos = nl + 1;
    }
  }
  if (log.bad()) return Fail("reading the log failed");
  if (overlong) importer.Malformed(number, "line longer than " + std::to_string(kMaxLineBytes) + " bytes");
  if (!partial.empty()) importer.Line(partial, number);
  return importer.Finish();
}

}  // namespace headroom::importer
