// Private to src/sim.
#pragma once
#include <vector>

#include "model/model.h"
#include "sim/sim.h"

namespace headroom::sim {

// One unit's M/M/c queue (src/model) at utilizations quantized to 1/kBuckets of kMaxRho, filled
// lazily: a 30-day run visits the same few hundred utilizations millions of times.
class QueueTable {
 public:
  static constexpr int kBuckets = 2000;
  static constexpr double kMaxRho = 0.995;  // above it the backlog, not the queue, holds the wait
  QueueTable() = default;
  QueueTable(int servers, double service_s);
  double P95(double rho);              // seconds in system, 95th percentile
  double Tail(double rho, double t);   // P(time in system > t)
  // Tail(rho, t), remembered per bucket for the last t asked: the response-time budget left
  // after the waits is the same for long stretches (no backlog), so most seconds are a lookup.
  // Equal to Tail(rho, t) bit for bit.
  double TailCached(double rho, double t);

 private:
  model::MmcInput Input(int bucket) const;
  int Bucket(double rho) const;
  double WaitProbability(int bucket);
  int servers_ = 1;
  double service_s_ = 1;
  std::vector<double> wait_, p95_;
  std::vector<double> tail_t_, tail_v_;  // per bucket: the last t of TailCached and its value
};

}  // namespace headroom::sim
