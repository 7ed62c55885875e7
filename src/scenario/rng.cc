#include <cmath>

#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed, uint64_t stream) {
  // Mix the stream into the seed through splitmix64 so that workers 0, 1, 2... get unrelated
  // states even from small seeds; splitmix64 never yields an all-zero xoshiro state in practice.
  uint64_t mix = stream;
  uint64_t state = seed ^ SplitMix64(mix);
  for (uint64_t& word : s_) word = SplitMix64(state);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Below(uint64_t n) {
  // Lemire's multiply-shift: unbiased thanks to the rejection of the low remainder.
  unsigned __int128 m = (unsigned __int128)Next() * n;
  uint64_t low = uint64_t(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = (unsigned __int128)Next() * n;
      low = uint64_t(m);
    }
  }
  return uint64_t(m >> 64);
}

Result<WeightedPicker> WeightedPicker::Build(std::span<const double> weights) {
  const size_t n = weights.size();
  if (n == 0) return Fail("no items to pick from");
  double sum = 0;
  size_t heaviest = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(weights[i]) || weights[i] < 0) return Fail("weights must be finite and not negative");
    sum += weights[i];
    if (weights[i] > weights[heaviest]) heaviest = i;
  }
  if (sum <= 0) return Fail("the weights add up to 0");
  WeightedPicker p;
  p.prob_.assign(n, 1.0);
  p.alias_.assign(n, uint32_t(heaviest));
  std::vector<double> scaled(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * double(n) / sum;
    (scaled[i] < 1.0 ? small : large).push_back(uint32_t(i));
  }
  // Vose: pair each under-full column with an over-full one that tops it up.
  while (!small.empty() && !large.empty()) {
    uint32_t s = small.back();
    small.pop_back();
    uint32_t l = large.back();
    p.prob_[s] = scaled[s];
    p.alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are full columns up to rounding; a zero weight must still never be picked.
  for (uint32_t i : small) p.prob_[i] = weights[i] > 0 ? 1.0 : 0.0;
  for (uint32_t i : large) p.prob_[i] = 1.0;
  return p;
}

size_t WeightedPicker::Pick(Rng& rng) const {
  size_t column = size_t(rng.Below(prob_.size()));
  return rng.NextDouble() < prob_[column] ? column : alias_[column];
}

Result<WeightedPicker> MakeRequestPicker(const Scenario& scenario) {
  std::vector<double> weights;
  for (const RequestSpec& r : scenario.requests) weights.push_back(r.weight);
  return WeightedPicker::Build(weights);
}

}  // namespace headroom::scenario
