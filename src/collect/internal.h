// Helpers shared by the sources of the collect library. Private to src/collect.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/collect.h"

namespace headroom::collect {

// Turns monotonic counters into per-second rates. One tracker per source; keys are metric names.
// A counter that went down (a restart) counts from zero. Not thread-safe.
class RateTracker {
 public:
  // Starts a new interval ending at now_ns. Returns the seconds since the previous Begin (0 on
  // the first call or after Reset: no rates then).
  double Begin(int64_t now_ns);
  // Records `value` for `key` and returns its rate over the interval, or nullopt when there is no
  // previous value (first sample, or the key is new).
  std::optional<double> Rate(const std::string& key, double value);
  // Raw increase since the previous value (same rules as Rate), or nullopt.
  std::optional<double> Delta(const std::string& key, double value);
  // Like Delta, but a key first seen after the first interval counts from zero: for counters
  // that appear when they first move (a new statement, command or table).
  std::optional<double> DeltaFromZero(const std::string& key, double value);
  // Adds a rate metric to `out` when one is known.
  void AddRate(std::vector<Metric>& out, const std::string& key, double value);
  // Forgets every value (after a failure the next read starts again).
  void Reset();
  // Drops keys not updated since the last Begin (tables dropped, processes gone).
  void Prune();
  double interval_s() const { return interval_s_; }

 private:
  struct Entry {
    double value = 0;
    uint64_t generation = 0;
  };
  std::map<std::string, Entry, std::less<>> values_;
  int64_t last_ns_ = 0;
  double interval_s_ = 0;
  uint64_t generation_ = 0;
};

// Whole file as text ("" for an empty file); an Error names the path and errno text.
Result<std::string> ReadTextFile(const std::string& path);

// Splits on runs of spaces and tabs.
std::vector<std::string_view> SplitFields(std::string_view line);
// Non-empty lines.
std::vector<std::string_view> SplitLines(std::string_view text);
// Decimal number or nullopt.
std::optional<double> ToNumber(std::string_view text);

// Keeps the activities with the largest counts[0] (at most `limit`), largest first.
void KeepTop(std::vector<Activity>& activity, size_t limit);

// HTTP/1.0 GET of an http:// URL with a plain blocking socket. The whole exchange (resolve,
// connect, send, read to EOF) must fit in timeout_ns. Returns the body of a 200 answer (chunked
// bodies are decoded); any other status, a body over max_bytes or a timeout is an Error.
Result<std::string> HttpGet(std::string_view url, int64_t timeout_ns, size_t max_bytes = 32u << 20);

// Sources, built by MakeSource.
std::unique_ptr<Source> MakeHostSource(const WatchSpec& spec, const SourceOptions& options);
std::unique_ptr<Source> MakeProcessSource(const WatchSpec& spec, const SourceOptions& options);
std::unique_ptr<Source> MakePrometheusSource(const WatchSpec& spec, const SourceOptions& options);
std::unique_ptr<Source> MakePostgresSource(const WatchSpec& spec, const SourceOptions& options);
std::unique_ptr<Source> MakeRedisSource(const WatchSpec& spec, const SourceOptions& options);

}  // namespace headroom::collect
