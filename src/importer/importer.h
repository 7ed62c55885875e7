// Importers: scenario files (docs/scenario.md) written from what users already have, so a load
// test starts from real traffic (docs/import.md):
//   - curl command lines, as pasted from a terminal or a browser's "Copy as cURL";
//   - a HAR file (browser devtools, proxies);
//   - an nginx/Apache access log (combined or common log format).
//
// Every importer returns the scenario as YAML text that LoadScenarioFromString() accepts, plus
// notes (one line each) on what was ignored, left out or guessed. Text from the input can never
// change the file's structure: strings are written double-quoted by yaml-cpp's emitter, a literal
// "{{" is written as a template that renders "{", and paths are percent-encoded outside visible
// ASCII. Input that cannot be represented exactly (a body that is not UTF-8, a header with a line
// break) is an error for curl and a note (the header or request is left out) for HAR.
//
// Memory: ImportAccessLog() reads the log once, in fixed-size chunks; what it keeps is bounded by
// the number of request shapes it tracks (Options::max_tracked_shapes) and by the number of
// per-interval buckets of the arrival curve (kMaxCurveBuckets), never by the size of the file.
//
// Thread-safety: the functions keep no state between calls and may run concurrently.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace headroom::importer {

struct Options {
  std::string name;    // scenario name; empty: "<kind> import of <host>"
  std::string target;  // base URL written as `target`, overriding the detected origin
  double speed = 1.0;  // access log: multiplier of the replayed arrival rates (> 0)
  size_t max_requests = 50;  // access log: request shapes written (most frequent first)
  size_t max_tracked_shapes = 2000;  // access log: shapes counted while streaming (>= max_requests)
  int64_t step_s = 60;  // access log: seconds of log per ramp phase of the replay (>= 1)
  bool keep_cookies = false;  // HAR: keep Cookie headers (they are dropped by default)
  // Reads the file named by curl's `-d @FILE`. Default (empty): read it from disk.
  std::function<Result<std::string>(const std::string& path)> read_file;
};

struct Imported {
  std::string yaml;                // the scenario file
  std::vector<std::string> notes;  // one line each, no trailing newline
};

// One or more curl command lines (each string may also hold several commands, one per line or
// separated by ';' or '&&'). Errors: not a curl command, an unsupported option that changes the
// request, a malformed URL, a `-d @FILE` that cannot be read.
Result<Imported> ImportCurl(std::span<const std::string> command_lines, const Options& options);

// The text of a HAR file. Errors: not JSON, not a HAR (no log.entries), no usable request.
Result<Imported> ImportHar(std::string_view har_json, const Options& options);

// An access log read from `log` to its end. Malformed lines are counted in the notes (with the
// first one's line number), never an error. Errors: no well-formed line at all, a read error.
Result<Imported> ImportAccessLog(std::istream& log, const Options& options);

// "3x", "3" or "0.5x" -> 3, 3, 0.5. Errors: not a positive number.
Result<double> ParseSpeed(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Parsers under the importers (exposed for tests and fuzzing)
// ---------------------------------------------------------------------------------------------

// A request as curl would send it.
struct CurlRequest {
  std::string method;  // upper case as given ("GET" when not set and there is no body)
  std::string url;     // as given, with -G data appended to the query
  std::vector<std::pair<std::string, std::string>> headers;  // in order
  std::optional<std::string> body;
  std::vector<std::string> notes;  // ignored options
};

// Splits shell text into commands of words, as bash would for the quoting that pasted curl
// commands use: '...', "...", $'...', backslash escapes and backslash-newline continuations.
// An unquoted newline, ';', '&&' or '||' ends a command; '|' ends it too and the rest up to the
// next separator is dropped. Errors: an unterminated quote.
Result<std::vector<std::vector<std::string>>> SplitShellCommands(std::string_view text);

// Interprets one command's words (words[0] is "curl" or a path ending in "/curl").
Result<CurlRequest> ParseCurlWords(std::span<const std::string> words, const Options& options);

// One access-log line: `host ident user [dd/Mon/yyyy:HH:MM:SS +zzzz] "METHOD target PROTO" status
// ...` (combined or common log format).
struct LogLine {
  int64_t time_s = 0;  // Unix time, seconds
  std::string method;
  std::string target;  // request-target as logged (path and query)
  int status = 0;
};
Result<LogLine> ParseAccessLogLine(std::string_view line);

}  // namespace headroom::importer
