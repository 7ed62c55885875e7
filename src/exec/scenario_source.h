// Adapts a scenario's compiled, templated requests to the engine's RequestSource: each worker
// gets its own render context (PRNG, sequences, CSV cursors) and picks requests by weight.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "scenario/scenario.h"

namespace headroom::exec {

class ScenarioSource final : public engine::RequestSource {
 public:
  // REQUIRES: requests compiled from `scenario` (same order). Keeps its own copies.
  // Shard I of N (headroom run --shard): worker w renders as worker w*N+I of worker_count*N, so
  // seq() values of different shards never meet (shard I's are I mod N).
  ScenarioSource(const scenario::Scenario& scenario, std::vector<scenario::CompiledRequest> requests,
                 scenario::WeightedPicker picker, int worker_count, int shard_index = 0, int shard_count = 1);
  std::vector<std::string> names() const override;
  std::vector<int64_t> timeouts_ns() const override;
  std::vector<const engine::ResponseCheck*> checks() const override;
  std::unique_ptr<engine::RequestStream> ForWorker(int worker_index, uint64_t seed) const override;

 private:
  std::vector<scenario::CompiledRequest> requests_;
  std::vector<bool> head_;
  std::vector<std::unique_ptr<engine::ResponseCheck>> checks_;  // per request; null = no `expect`
  scenario::WeightedPicker picker_;
  int worker_count_;
  int shard_index_, shard_count_;
};

}  // namespace headroom::exec
