// Monotonic time in nanoseconds. MonoNowNs() is CLOCK_MONOTONIC, cheap (vDSO), thread-safe.
#pragma once
#include <cstdint>
#include <ctime>

namespace headroom {

inline int64_t MonoNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Wall clock, microseconds since the Unix epoch (for timestamps in outputs only).
inline int64_t WallNowUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace headroom
