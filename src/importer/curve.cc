// The arrival curve of a log as ramp phases: per bucket, the least-squares line through the
// per-second counts. A least-squares line with an intercept has the same sum as the counts, so
// the replay sends as many requests per bucket as the log saw (unless a ramp end would be
// negative: then it is clamped at 0 and the other end raised to keep the count).
#include <cmath>

#include "importer/log_model.h"

namespace headroom::importer {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

void ArrivalCurve::Add(int64_t time_s) {
  if (!started_) {
    started_ = true;
    origin_s_ = first_s_ = last_s_ = time_s;
  }
  first_s_ = std::min(first_s_, time_s);
  last_s_ = std::max(last_s_, time_s);
  ++total_;
  const int64_t k = FloorDiv(time_s - origin_s_, width_s_);
  Bucket& b = buckets_[k];
  ++b.count;
  b.offset_sum += uint64_t(time_s - origin_s_ - k * width_s_);
  // Bounded by the buckets between the first and the last second, not only the ones that exist.
  while (buckets_.size() > kMaxCurveBuckets ||
         uint64_t(last_s_ - first_s_) / uint64_t(width_s_) + 2 > kMaxCurveBuckets) {
    Widen();
  }
}

void ArrivalCurve::Widen() {
  std::map<int64_t, Bucket> wider;
  for (const auto& [k, b] : buckets_) {
    const int64_t wk = FloorDiv(k, 2);
    Bucket& w = wider[wk];
    w.count += b.count;
    w.offset_sum += b.offset_sum + b.count * uint64_t((k - 2 * wk) * width_s_);
  }
  buckets_ = std::move(wider);
  width_s_ *= 2;
}

std::vector<DraftPhase> ArrivalCurve::ToPhases(double speed) {
  std::vector<DraftPhase> phases;
  if (total_ == 0) return phases;
  const int64_t k_first = FloorDiv(first_s_ - origin_s_, width_s_);
  const int64_t k_last = FloorDiv(last_s_ - origin_s_, width_s_);
  for (int64_t k = k_first; k <= k_last; ++k) {
    const int64_t start = origin_s_ + k * width_s_;
    const int64_t lo = std::max(start, first_s_);
    const int64_t hi = std::min(start + width_s_, last_s_ + 1);  // exclusive
    auto it = buckets_.find(k);
    const double n = it == buckets_.end() ? 0 : double(it->second.count);
    // Offsets from the clipped start `lo`, in seconds 0 .. L-1.
    const double s = it == buckets_.end() ? 0 : double(it->second.offset_sum) - n * double(lo - start);
    const double len = double(hi - lo);
    double from = n / len, to = n / len;
    if (len > 1) {
      const double mean_s = (len - 1) / 2;
      const double sxx = len * (len * len - 1) / 12;
      const double slope = (s - mean_s * n) / sxx;  // per second, per second
      from = n / len - slope * len / 2;
      to = n / len + slope * len / 2;
      if (from < 0) {
        from = 0;
        to = 2 * n / len;
      } else if (to < 0) {
        to = 0;
        from = 2 * n / len;
      }
    }
    DraftPhase p;
    p.name = "replay-" + std::to_string(phases.size() + 1);
    p.kind = DraftPhaseKind::kRamp;
    p.from_per_sec = from * speed;
    p.to_per_sec = to * speed;
    p.duration_s = hi - lo;
    phases.push_back(p);
  }
  return phases;
}

}  // namespace headroom::importer
