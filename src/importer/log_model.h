// Private to the importer library: what the access-log importer keeps while it streams a log.
// Both structures have a fixed upper bound on memory, whatever the length of the log.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "importer/draft.h"

namespace headroom::importer {

// Request-targets longer than this are not analysed (counted as too long), which bounds a shape.
inline constexpr size_t kMaxTargetBytes = 2048;
// Values of one shape kept to choose from (query values, long hex ids), in bytes, in all.
inline constexpr size_t kMaxSampleBytesPerShape = 4096;
inline constexpr size_t kMaxSamplesPerSlot = 16;
// The replay never has more ramp phases than this; the step is doubled until it fits.
inline constexpr size_t kMaxCurveBuckets = 1500;

enum class SlotKind { kInt, kUuid, kHex, kQueryValue };

// A varying part of a request-target and what was seen in it.
struct Slot {
  SlotKind kind = SlotKind::kInt;
  int64_t min = 0, max = 0;  // kInt, and kQueryValue while all_int
  bool seen = false;
  bool all_int = true;       // kQueryValue: every value was a whole number
  bool all_uuid = true;      // kQueryValue: every value was a UUID
  std::vector<std::string> samples;  // distinct values, first seen first
  bool more_values = false;          // a distinct value was seen that is not in samples
};

// Requests that differ only in their ids (and query values) share a shape.
struct Shape {
  std::string method;
  std::vector<std::string> literals;  // literals.size() == slots.size() + 1; raw bytes
  std::vector<Slot> slots;
  uint64_t count = 0;
  size_t sample_bytes = 0;
};

// Counts requests by shape, keeping at most `max_tracked` shapes: past that, the least frequent
// half is forgotten (its requests are counted in untracked()). Exact while a log has fewer
// shapes; the most frequent shapes of a larger log survive every pruning.
class ShapeTable {
 public:
  explicit ShapeTable(size_t max_tracked) : max_tracked_(max_tracked < 2 ? 2 : max_tracked) {}
  void Add(std::string_view method, std::string_view target);
  // The shapes, most frequent first (ties: first seen first).
  std::vector<const Shape*> Ranked() const;
  uint64_t untracked() const { return untracked_; }
  size_t pruned_shapes() const { return pruned_shapes_; }

 private:
  void Prune();
  size_t max_tracked_;
  std::vector<Shape> shapes_;
  std::unordered_map<std::string, size_t> index_;  // shape key -> position in shapes_
  uint64_t untracked_ = 0;
  size_t pruned_shapes_ = 0;
};

// The path of a shape as template text: ids become randint()/uuid()/choice() templates.
std::string ShapePath(const Shape& shape);
// "get users id orders"-like name hint of a shape.
std::string ShapeNameHint(const Shape& shape);

// Arrivals per second, summarised per bucket of `width_s()` seconds as (count, sum of offsets),
// which is all a least-squares line through the per-second counts needs. At most
// kMaxCurveBuckets buckets are kept: when there are more, the width doubles.
class ArrivalCurve {
 public:
  explicit ArrivalCurve(int64_t step_s) : width_s_(step_s < 1 ? 1 : step_s) {}
  void Add(int64_t time_s);
  // One ramp per bucket from the first to the last second of the log, rates times `speed`.
  std::vector<DraftPhase> ToPhases(double speed);
  int64_t width_s() const { return width_s_; }
  uint64_t total() const { return total_; }
  int64_t span_s() const { return total_ == 0 ? 0 : last_s_ - first_s_ + 1; }

 private:
  struct Bucket {
    uint64_t count = 0;
    uint64_t offset_sum = 0;  // sum over arrivals of (second - bucket start)
  };
  void Widen();
  int64_t width_s_;
  bool started_ = false;
  int64_t origin_s_ = 0;  // bucket k covers [origin + k*width, origin + (k+1)*width)
  int64_t first_s_ = 0, last_s_ = 0;
  uint64_t total_ = 0;
  std::map<int64_t, Bucket> buckets_;
};

}  // namespace headroom::importer
