// HDR (high dynamic range) histogram of non-negative integer values, e.g. response times in
// microseconds. Log-linear buckets: values are grouped into buckets that double in width, each split
// into 2^k sub-buckets, where 2^k is the next power of two >= 2 * 10^significant_digits. Every recorded
// value is therefore kept with a relative error below 10^-significant_digits (0.1% for 3 digits).
//
// Memory is allocated once, in the constructor, and depends only on the configuration (about 184 KiB
// for the default 1 us .. 1 h at 3 digits), never on how many values are recorded.
//
// Thread-safety: none. A Histogram is owned by one thread (one engine worker); other threads get
// copies or merge with Add() after the owner hands the histogram over.
//
// All statistics (Min, Max, Mean, StdDev, percentiles) are computed from the bucket counts only, so a
// histogram rebuilt by DecodeCompressedBase64 or by Add reports exactly the same numbers as the
// original. Min() is the lowest value equivalent to the smallest recorded value, Max() the highest
// value equivalent to the largest one (both clamped to [Lowest(), Highest()]).
#pragma once
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace headroom {

class Histogram {
 public:
  // Tracks integer values in [lowest, highest] with `significant_digits` (1..5) precision.
  // REQUIRES: 1 <= lowest, 2 * lowest <= highest, 1 <= significant_digits <= 5. Arguments outside
  // these limits are forced into them (lowest >= 1, highest >= 2 * lowest, digits in 1..5).
  // Defaults: 1 us .. 1 h in microseconds, 3 digits.
  explicit Histogram(int64_t lowest = 1, int64_t highest = 3'600'000'000LL, int significant_digits = 3);

  // Records one value. Values outside [Lowest(), Highest()] are clamped to the nearest bound and
  // counted in Clamped(). No allocation, no locks, no data-dependent branches.
  void Record(int64_t value) {
    const int64_t v = std::clamp(value, lowest_, highest_);
    clamped_ += (v != value);
    ++counts_[IndexOf(v)];
    ++total_;
    min_value_ = std::min(min_value_, v);
    max_value_ = std::max(max_value_, v);
  }
  // Records `count` occurrences of `value` (clamped as in Record; Clamped() grows by `count`).
  // count <= 0 records nothing.
  void RecordN(int64_t value, int64_t count);

  // Adds all counts of `other`. REQUIRES: same configuration (Lowest, Highest, SignificantDigits) for
  // the fast, exact path; a histogram with another configuration is re-recorded bucket by bucket
  // (values re-quantized, out-of-range values clamped).
  void Add(const Histogram& other);
  // Forgets all recorded values; keeps the configuration and memory.
  void Reset();

  int64_t Count() const { return total_; }
  int64_t Min() const;         // 0 on empty
  int64_t Max() const;         // 0 on empty
  double Mean() const;         // 0 on empty; each bucket counts as its median-equivalent value
  double StdDev() const;       // population standard deviation; 0 on empty
  int64_t Clamped() const { return clamped_; }

  // `percentile` in [0,100] (clamped into it). Returns the highest value equivalent to the value of
  // rank ceil(percentile/100 * Count()) (rank at least 1), clamped to Highest(); 100 returns Max(),
  // 0 returns Min(). 0 on an empty histogram.
  int64_t ValueAtPercentile(double percentile) const;

  // Calls f(int64_t highest_equivalent_value, int64_t count) for every non-empty bucket, ascending.
  template <class F>
  void ForEachBucket(F&& f) const {
    if (total_ == 0) return;
    const size_t last = IndexOf(max_value_);
    for (size_t i = IndexOf(min_value_); i <= last; ++i) {
      if (counts_[i] != 0) f(HighestEquivalent(ValueAtIndex(i)), counts_[i]);
    }
  }

  int64_t Lowest() const { return lowest_; }
  int64_t Highest() const { return highest_; }
  int SignificantDigits() const { return significant_digits_; }
  size_t MemoryBytes() const { return sizeof(*this) + counts_.capacity() * sizeof(int64_t); }

  // HdrHistogram "V2 compressed" encoding, base64: a big-endian header (cookie 0x1c849314, length)
  // followed by the zlib-deflated V2 encoding (40-byte header, then counts as ZigZag LEB128 with runs
  // of empty buckets as negative numbers). This is the payload of HdrHistogram interval logs (.hlog).
  std::string EncodeCompressedBase64() const;
  // Accepts V2 compressed and V2 uncompressed payloads (from headroom or other HdrHistogram
  // implementations). Whitespace around the text is ignored. Errors are one line.
  static Result<Histogram> DecodeCompressedBase64(std::string_view text);

 private:
  size_t IndexOf(int64_t v) const {
    // v | sub_bucket_mask_ is never 0, so the builtin (unlike std::countl_zero) needs no zero check.
    const int bucket = leading_zero_base_ - __builtin_clzll(static_cast<uint64_t>(v | sub_bucket_mask_));
    const int64_t sub_bucket = v >> (bucket + unit_magnitude_);
    return static_cast<size_t>((int64_t{bucket + 1} << half_count_magnitude_) + sub_bucket - half_count_);
  }
  int64_t ValueAtIndex(size_t index) const;
  int64_t LowestEquivalent(int64_t v) const;
  int64_t HighestEquivalent(int64_t v) const;
  int64_t MedianEquivalent(int64_t v) const;  // lowest equivalent + half the bucket width
  void RecomputeMinMax();
  std::vector<uint8_t> EncodeUncompressed() const;
  static Result<Histogram> DecodeUncompressed(const uint8_t* data, size_t size);

  int64_t lowest_;
  int64_t highest_;
  int significant_digits_;
  int unit_magnitude_;          // floor(log2(lowest_))
  int half_count_magnitude_;    // log2(sub-bucket count) - 1
  int64_t half_count_;          // sub-bucket count / 2
  int64_t sub_bucket_mask_;     // (sub-bucket count - 1) << unit_magnitude_
  int leading_zero_base_;       // 64 - unit_magnitude_ - log2(sub-bucket count)
  int64_t total_ = 0;
  int64_t clamped_ = 0;
  int64_t min_value_;           // smallest recorded (clamped) value; INT64_MAX when empty
  int64_t max_value_;           // largest recorded (clamped) value; 0 when empty
  std::vector<int64_t> counts_;
};

}  // namespace headroom
