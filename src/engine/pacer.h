// Open-model arrival process for one worker. Produces the intended start time of each request from
// a piecewise-linear rate profile: uniform arrivals are evenly spaced in cumulative-count space,
// Poisson arrivals have exponential gaps there (time rescaling), so ramps need no special case.
// Not thread-safe; one per worker.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/engine.h"

namespace headroom::engine {

// Small fast PRNG (splitmix64), deterministic per seed.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t NextU64();
  double NextUnit();  // [0, 1)

 private:
  uint64_t state_;
};

// The uniform-arrival offset of worker `worker` of `threads`, in [0, 1) of one of its intervals:
// workers interleave, and with Config::shard_phase = I/N the workers of N shards interleave into
// the one schedule of the whole test (arrival k of the test goes to shard k mod N).
inline double WorkerPhase(int worker, int threads, double shard_phase) {
  return (double(worker) + shard_phase) / double(threads);
}

class Pacer {
 public:
  // `segments` hold this worker's share of the rate. `phase` in [0,1) offsets uniform arrivals so that
  // workers interleave instead of firing together.
  Pacer(std::vector<RateSegment> segments, Arrival arrival, uint64_t seed, double phase);
  // Offset in ns from the run's start of the next arrival, or -1 when the profile has ended.
  int64_t Next();

 private:
  double SegmentCount(const RateSegment& s) const;  // arrivals expected in the whole segment
  double TimeForCount(const RateSegment& s, double count) const;  // seconds into the segment

  std::vector<RateSegment> segments_;
  Arrival arrival_;
  Rng rng_;
  size_t index_ = 0;
  int64_t segment_start_ns_ = 0;
  double target_ = 0;  // cumulative count within the current segment of the next arrival
};

}  // namespace headroom::engine
