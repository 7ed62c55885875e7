#include "engine/pacer.h"

#include <cmath>
#include <utility>

namespace headroom::engine {

Rng::Rng(uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ULL) {}

uint64_t Rng::NextU64() {
  // splitmix64: full period, good enough statistics for arrival jitter and request mixes.
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double Rng::NextUnit() { return double(NextU64() >> 11) * 0x1.0p-53; }

Pacer::Pacer(std::vector<RateSegment> segments, Arrival arrival, uint64_t seed, double phase)
    : segments_(std::move(segments)), arrival_(arrival), rng_(seed) {
  if (arrival_ == Arrival::kUniform) {
    target_ = phase;
  } else {
    target_ = -std::log(1.0 - rng_.NextUnit());
  }
}

double Pacer::SegmentCount(const RateSegment& s) const {
  return (s.start_rps + s.end_rps) * 0.5 * (double(s.duration_ns) / 1e9);
}

double Pacer::TimeForCount(const RateSegment& s, double count) const {
  double d = double(s.duration_ns) / 1e9;
  double a = s.start_rps;
  double k = d > 0 ? (s.end_rps - s.start_rps) / d : 0;  // rate slope, req/s^2
  // Solve a*t + k*t^2/2 = count for t >= 0.
  if (std::fabs(k) < 1e-12) return a > 0 ? count / a : d;
  double disc = a * a + 2 * k * count;
  if (disc < 0) disc = 0;
  return (std::sqrt(disc) - a) / k;
}

int64_t Pacer::Next() {
  while (index_ < segments_.size()) {
    const RateSegment& s = segments_[index_];
    double total = SegmentCount(s);
    if (target_ < total) {
      double t = TimeForCount(s, target_);
      int64_t at = segment_start_ns_ + int64_t(t * 1e9);
      if (at > segment_start_ns_ + s.duration_ns) at = segment_start_ns_ + s.duration_ns;
      double step = arrival_ == Arrival::kUniform ? 1.0 : -std::log(1.0 - rng_.NextUnit());
      target_ += step;
      return at;
    }
    target_ -= total;
    segment_start_ns_ += s.duration_ns;
    ++index_;
  }
  return -1;
}

}  // namespace headroom::engine
