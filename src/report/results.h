// The results model: what a run measured, independent of the engine, and its JSON form
// (schema "headroom.results/1", documented field by field in docs/results.md). Every consumer
// (gate, report, merge, plan) reads this; nothing reaches into the engine.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/histogram.h"
#include "core/status.h"

namespace headroom::report {

inline constexpr const char* kResultsSchema = "headroom.results/1";

struct SloResult {
  std::string expr;
  double observed = 0;       // in the objective's unit: us for latency, fraction for rates, req/s for rps
  std::string observed_text; // human form, e.g. "312.4ms"
  bool pass = false;
};

// One scope of measurement: the whole run, a phase or a request name.
struct Section {
  std::string name;
  int64_t requests_total = 0;   // completed + failed
  int64_t requests_ok = 0;
  int64_t requests_errors = 0;
  double achieved_rps = 0;      // completed responses per second of the scope
  std::optional<double> requested_rps;  // open model only
  Histogram response_time_us;
  Histogram service_time_us;
  std::map<std::string, int64_t> errors_by_class;
  std::map<int, int64_t> status_codes;
  std::vector<SloResult> slo;
};

struct SecondRow {
  int64_t second = 0;
  double span_s = 1.0;
  int64_t intended = 0;
  int64_t completed = 0;
  int64_t ok = 0;
  int64_t errors = 0;
  int64_t p50_us = 0, p90_us = 0, p95_us = 0, p99_us = 0, max_us = 0;
  double mean_us = 0;
  std::string histogram;  // interval histogram, HdrHistogram V2 compressed base64
};

struct Generator {
  Histogram pacer_lateness_us;
  int64_t delayed = 0;           // requests that waited in the generator for a free connection
  int64_t max_queue_depth = 0;
  int64_t unfinished = 0;
  int64_t connections_opened = 0;
  double cpu_user_s = 0;
  double cpu_system_s = 0;
  int64_t rss_bytes = 0;
};

struct Results {
  std::string tool_version;
  int64_t started_at_us = 0;    // wall clock, Unix epoch microseconds
  std::string target;           // URL or scenario name
  std::string method = "GET";
  std::string model = "closed"; // "open" | "closed"
  std::string arrival;          // "uniform" | "poisson" (open model)
  int threads = 0;
  int connections = 0;
  double duration_s = 0;        // requested
  double elapsed_s = 0;         // measured
  bool interrupted = false;
  bool complete = true;         // false while a run is still writing (periodic checkpoints)
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
  Section overall;
  std::vector<Section> requests;  // per request name
  Generator generator;
  std::vector<SecondRow> series;
};

// Percentile summary object {p50,p90,p95,p99,p99_9,max,mean,min,count} in microseconds.
nlohmann::ordered_json LatencyJson(const Histogram& h);
nlohmann::ordered_json SectionJson(const Section& s);
nlohmann::ordered_json ToJson(const Results& r);

// Writes text to path atomically (temporary file in the same folder, fsync, rename).
Status WriteFileAtomic(const std::string& path, const std::string& text);
// DIR/results.json and DIR/series.csv; creates DIR.
Status WriteResults(const Results& r, const std::string& dir);
std::string SeriesCsv(const Results& r);

// Reads a results.json (for merge/report/plan), rebuilding histograms from their encodings.
Result<nlohmann::ordered_json> ReadResultsJson(const std::string& path);

}  // namespace headroom::report
