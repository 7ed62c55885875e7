// Scenario files: the YAML model of one load test (docs/scenario.md), its validation, and the
// compiled, templated HTTP/1.1 requests the engine sends.
//
// Loading: LoadScenario() parses, validates and resolves a file (units, ${ENV} in target, rate
// multiples, defaults, CSV data). Validation collects every problem; the error's message holds
// one "file:line:col: path: message" line per problem, joined by '\n' (line/col are 1-based).
//
// Sending: CompileRequests() turns the Scenario's requests into CompiledRequest objects. Each
// worker owns one RenderContext (PRNG, counters, CSV cursors) and one output buffer per
// connection; RenderInto() writes the full request bytes into that buffer without allocating
// once the buffer has capacity (see RenderCapacityHint()).
//
// Thread-safety: Scenario, CompiledRequest and WeightedPicker are immutable after construction
// and may be shared by all workers. RenderContext and Rng are per-thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "slo/slo.h"

namespace headroom::scenario {

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

// Position of a value in the scenario file, 1-based. line == 0 means "unknown".
struct SourcePos {
  int line = 0;
  int column = 0;
};

enum class PhaseKind { kBaseline, kRamp, kSpike, kSoak, kStress, kClosed };
enum class Arrival { kUniform, kPoisson };
enum class StressSearch { kSteps, kExponential };
enum class DataOrder { kSequential, kRandom };

// "baseline", "ramp", ... (the YAML key of the kind).
std::string_view PhaseKindName(PhaseKind kind);

// A CSV file loaded in memory: header names and row-major cells. Immutable once loaded.
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::string> cells;  // rows() * columns.size() entries
  size_t rows() const { return columns.empty() ? 0 : cells.size() / columns.size(); }
  std::string_view Cell(size_t row, size_t column) const { return cells[row * columns.size() + column]; }
  // Index of a column by name, or -1.
  int ColumnIndex(std::string_view name) const;
};

struct DataSource {
  std::string name;  // identifier used in templates: {{ name.column }}
  std::string path;  // as resolved (relative to the scenario file's directory)
  DataOrder order = DataOrder::kSequential;
  std::shared_ptr<const CsvTable> table;  // never null in a loaded Scenario
  SourcePos pos;
};

// One SLO expression (syntax in docs/slo.md), parsed and checked against the request names.
struct SloSpec {
  std::string text;          // without any "request." prefix, e.g. "p95 < 200ms"
  std::string request;       // empty: all requests; otherwise only this request's samples
  slo::Objective objective;  // parsed; objective.request == request and, when scoped,
                             // objective.expr == request + "." + text
  SourcePos pos;
};

struct Header {
  std::string name;
  std::string value;  // may hold {{ templates }}
};

// Checks on each response of a request (`expect:`, docs/scenario.md "Response checks"). A response
// that fails one counts as the error class check_failed; one with a status >= 400 that `status`
// does not list stays http_4xx / http_5xx.
struct HeaderExpect {
  enum class Op { kEquals, kContains, kMatches, kPresent, kAbsent };
  std::string name;   // as written; matched case-insensitively
  Op op = Op::kEquals;
  std::string value;  // kEquals, kContains: text; kMatches: an RE2 pattern (validated)
  SourcePos pos;
};

struct JsonExpect {
  std::string path;      // as written: "items.0.id", "/items/0/id" or "$.items[0].id"
  std::string pointer;   // the same as a JSON pointer: "/items/0/id"
  std::string expected;  // the expected value as JSON text: 5, "ok", true, null
  SourcePos pos;
};

struct Expect {
  std::vector<std::pair<int, int>> statuses;  // inclusive ranges; empty: any status below 400
  std::vector<HeaderExpect> headers;
  std::vector<std::string> body_contains;
  std::vector<std::string> body_matches;  // RE2 patterns (validated), searched anywhere in the body
  std::vector<JsonExpect> json;
  int64_t body_limit = 1 << 20;  // body bytes kept for body and json checks
  bool NeedsBody() const { return !body_contains.empty() || !body_matches.empty() || !json.empty(); }
};

struct RequestSpec {
  std::string name;
  double weight = 1;      // relative share, >= 0
  std::string method = "GET";
  std::string path;       // starts with '/', may hold templates
  std::vector<Header> headers;  // defaults.headers merged with the request's own, file order
  std::optional<std::string> body;  // may hold templates
  int64_t timeout_ns = 0;  // resolved (request's own or defaults.timeout)
  std::vector<SloSpec> slos;  // request-scoped (request == name), from the request's `slos` key
  std::optional<Expect> expect;  // response checks; none: status < 400 is ok
  SourcePos pos;
};

// Open-model phases: the cap on connections when none is given.
inline constexpr int kDefaultConnectionCap = 1000;
// A plain closed-model run (`headroom run URL` without a rate): connections when none is given.
inline constexpr int kDefaultClosedConnections = 50;

struct Defaults {
  int64_t timeout_ns = 10'000'000'000;
  std::vector<Header> headers;
  int connections = kDefaultConnectionCap;
  Arrival arrival = Arrival::kUniform;
  // The HTTP version (docs/http2.md): auto (https: h2 when the server chooses it by ALPN), 1.1, 2
  // (https: h2 or fail), h2c (http: cleartext HTTP/2). headroom run's --http1.1, --http2 and --h2c
  // replace it.
  enum class Http { kAuto, kHttp1, kHttp2, kH2c } http = Http::kAuto;
  int max_streams = 0;  // HTTP/2 streams per connection (0: the server's limit, at most 100)
};

// One source of a watched tier (docs/scenario.md, "tiers"), as validated by collect's
// ParseWatchSpec: "host", "process:NAME|PID", "prometheus:URL", "postgres:CONNINFO",
// "redis:HOST:PORT". ${ENV} is expanded, so `spec` may hold a password: print `label`.
struct TierSource {
  std::string spec;
  std::string label;                   // the spec with any password redacted
  std::vector<std::string> selectors;  // prometheus only: its own, else the tier's
  SourcePos pos;
};

// A tier watched during the run (database, cache, app...).
struct Tier {
  std::string name;  // identifier; SLOs name its metrics as NAME.METRIC
  std::string kind;  // app, database, cache, queue, host, proxy, storage, other
  std::vector<TierSource> sources;
  int64_t interval_ns = 1'000'000'000;  // sampling interval
  SourcePos pos;
};

struct AbortOnFail {
  bool enabled = false;
  int64_t grace_ns = 0;  // an SLO broken continuously for this long stops the run
};

// One phase. Which fields apply depends on `kind`; the others stay at their defaults.
// All rates are requests per second and already absolute (multiples like "6x" are resolved).
struct Phase {
  std::string name;
  PhaseKind kind = PhaseKind::kBaseline;
  int64_t duration_ns = 0;     // all kinds except stress
  double rate_per_sec = 0;     // baseline, soak
  double from_per_sec = 0;     // ramp: start; spike: rate before/after; stress: first rate tried
  double to_per_sec = 0;       // ramp: end; spike: rate during the spike
  int64_t hold_ns = 0;         // spike: length of the spike
  int64_t window_ns = 0;       // soak: drift window (first vs last)
  double ceiling_per_sec = 0;  // stress
  double step_per_sec = 0;     // stress, search == kSteps
  int64_t step_duration_ns = 0;  // stress
  StressSearch search = StressSearch::kExponential;  // stress
  double resolution = 0.05;    // stress, search == kExponential (fraction, 0.05 = 5%)
  bool confirm = false;        // stress
  int connections = 0;         // open kinds: connection cap; closed: number of users
  int64_t think_ns = 0;        // closed
  Arrival arrival = Arrival::kUniform;  // open kinds
  std::vector<SloSpec> slos;   // the phase's own SLOs (the top-level ones also apply)
  SourcePos pos;
};

// The rate a phase ends at, used for multiples in the next phase; nullopt for stress/closed.
std::optional<double> FinalRatePerSec(const Phase& phase);
// True for every kind except closed.
bool IsOpenModel(PhaseKind kind);

struct Scenario {
  std::string file;         // display name used in errors
  std::string base_dir;     // directory of the file (data paths are relative to it)
  std::string name;
  std::string description;
  std::string target;       // base URL with ${ENV} expanded; parsed by the http layer
  Defaults defaults;
  std::vector<DataSource> data;
  std::vector<RequestSpec> requests;
  std::vector<SloSpec> slos;  // top-level; those with a request prefix have `request` set
  std::vector<Tier> tiers;    // watched beside the run; SLOs on tier metrics name them
  AbortOnFail abort_on_fail;
  std::optional<uint64_t> seed;
  std::vector<Phase> phases;
};

struct LoadOptions {
  // Replaces the file's `target` (headroom run/validate --target): checked the same way, and the
  // file's own target is then not expanded (its ${VARIABLES} need not be set).
  std::string target;
};

// Reads, validates and resolves a scenario file. Errors: one line per problem (see top).
Result<Scenario> LoadScenario(const std::string& path, const LoadOptions& options = {});
// Same, from text. `display_name` prefixes error lines; data paths are relative to `base_dir`.
Result<Scenario> LoadScenarioFromString(std::string_view text, const std::string& display_name,
                                        const std::string& base_dir = ".", const LoadOptions& options = {});

// Command-line overrides (headroom run FILE --slo ... --duration-scale ...), applied after loading.
// Adds a top-level SLO ("p95 < 300ms", or "checkout.p99 < 1s" for an existing request).
Status AddSlo(Scenario& s, std::string_view text);
// Multiplies every phase duration, stress step, spike hold, soak window and abort grace by
// `factor` (0 < factor <= 1000); phase lengths stay whole seconds of at least 1 s.
Status ScaleDurations(Scenario& s, double factor);

// One shard of a test run by several processes (headroom run --shard I/N, docs/distributed.md).
struct ShardSpec {
  int index = 0;  // 0 <= index < count
  int count = 1;
};
// "I/N" with 0 <= I < N <= kMaxShards. Errors are one line naming --shard.
inline constexpr int kMaxShards = 10'000;
Result<ShardSpec> ParseShard(std::string_view text);
// Turns `s` into shard `shard` of the test: every rate (baseline, soak, ramp, spike, stress from,
// step and ceiling) is divided by the count; closed phases' connections are split (shard I gets
// C/N, plus one when I < C mod N); open phases' connection caps become ceil(cap/N); every data
// file keeps the rows i with i mod N == I (file order). A shard left with no connection or no row
// is an error naming the phase or data file. Count 1 changes nothing.
Status ShardScenario(Scenario& s, const ShardSpec& shard);
// 16 hex digits identifying the scenario as it will run (after --env, --target, --slo and
// --duration-scale, before sharding): its requests, phases, SLOs, data rows and seed. Shards of one
// test carry the same fingerprint; headroom merge refuses shards whose fingerprints differ.
std::string ScenarioFingerprint(const Scenario& s);

// ---------------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------------

// xoshiro256** seeded through splitmix64. Small, fast, not cryptographic. One per thread.
class Rng {
 public:
  explicit Rng(uint64_t seed, uint64_t stream = 0);
  uint64_t Next();
  // Uniform in [0, n); n > 0. Unbiased (multiply-shift with rejection).
  uint64_t Below(uint64_t n);
  // Uniform in [0, 1).
  double NextDouble() { return double(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_[4];
};

// Weighted choice among n items in O(1) (Walker/Vose alias method). Items of weight 0 are
// never picked. Immutable after Build(); Pick() is const and thread-safe with per-thread Rng.
class WeightedPicker {
 public:
  // REQUIRES: at least one weight > 0, all finite and >= 0.
  static Result<WeightedPicker> Build(std::span<const double> weights);
  size_t Pick(Rng& rng) const;
  size_t size() const { return prob_.size(); }

 private:
  std::vector<double> prob_;   // probability of keeping column i
  std::vector<uint32_t> alias_;
};

// ---------------------------------------------------------------------------------------------
// Compiled requests
// ---------------------------------------------------------------------------------------------

struct TemplatePart;  // private to the scenario library
class CompiledRequest;

// Compiles every request of `scenario` (validated by LoadScenario) into request bytes.
// `host_header` is the Host value (e.g. "127.0.0.1:8080"); `base_path` is the target URL's path
// ("" or "/api"), prepended to each request path. Same order as scenario.requests.
Result<std::vector<CompiledRequest>> CompileRequests(const Scenario& scenario, std::string_view host_header,
                                                     std::string_view base_path = "");

// Per-worker mutable state for rendering: PRNG, seq() counters, CSV cursors and the row drawn
// for the request being rendered. Create with MakeRenderContext(); not thread-safe.
struct RenderContext {
  Rng rng{0};
  int64_t worker_index = 0;
  int64_t worker_count = 1;
  std::vector<int64_t> seq_next;       // per seq() occurrence (global id), next value
  std::vector<uint64_t> data_cursor;   // per data source, next sequential row
  std::vector<uint64_t> data_row;      // per data source, row of the current request
};

// A RenderContext sized for `requests`, seeded for worker `worker_index` of `worker_count`:
// seq() values interleave across workers, sequential CSV cursors start at staggered rows.
RenderContext MakeRenderContext(std::span<const CompiledRequest> requests, uint64_t seed, int worker_index,
                                int worker_count);

class CompiledRequest {
 public:
  const std::string& name() const { return name_; }
  // True when the request has no templates: StaticBytes() is what every send writes.
  bool IsStatic() const { return is_static_; }
  // REQUIRES: IsStatic(). Full request bytes, valid as long as this object.
  std::string_view StaticBytes() const { return static_bytes_; }
  // Writes the full request (request line, headers, Content-Length, body) into `out`
  // (out.clear() first). Allocates nothing when out.capacity() >= RenderCapacityHint().
  // Works for static requests too (copies StaticBytes()).
  void RenderInto(RenderContext& ctx, std::string& out) const;
  // Upper bound of a rendered request's size, for reserving buffers once.
  size_t RenderCapacityHint() const { return capacity_hint_; }
  int64_t timeout_ns() const { return timeout_ns_; }

  CompiledRequest();
  ~CompiledRequest();
  CompiledRequest(CompiledRequest&&) noexcept;
  CompiledRequest& operator=(CompiledRequest&&) noexcept;

 private:
  friend Result<std::vector<CompiledRequest>> CompileRequests(const Scenario&, std::string_view,
                                                              std::string_view);
  friend RenderContext MakeRenderContext(std::span<const CompiledRequest>, uint64_t, int, int);
  void AppendParts(RenderContext& ctx, const std::vector<TemplatePart>& parts, std::string& out) const;

  std::string name_;
  bool is_static_ = false;
  std::string static_bytes_;
  // Request line and headers. With dynamic_length_, head_ ends just after "Content-Length: ";
  // the length digits, the blank line and body_ follow when rendering.
  std::vector<TemplatePart> head_;
  std::vector<TemplatePart> body_;
  bool dynamic_length_ = false;
  std::vector<uint32_t> sources_;    // data sources used (a row is drawn for each per render)
  std::vector<std::shared_ptr<const CsvTable>> tables_;  // indexed by data source index
  std::vector<DataOrder> orders_;                        // indexed by data source index
  size_t capacity_hint_ = 0;
  int64_t timeout_ns_ = 0;
};


// A picker over scenario.requests' weights (same indices as CompileRequests' result).
Result<WeightedPicker> MakeRequestPicker(const Scenario& scenario);

}  // namespace headroom::scenario
