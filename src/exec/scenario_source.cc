#include "exec/scenario_source.h"

#include <algorithm>

#include "exec/response_check.h"

namespace headroom::exec {
namespace {

class Stream final : public engine::RequestStream {
 public:
  Stream(const std::vector<scenario::CompiledRequest>& requests, const std::vector<bool>& head,
         const scenario::WeightedPicker& picker, scenario::RenderContext ctx)
      : requests_(requests), head_(head), picker_(picker), ctx_(std::move(ctx)) {}

  int Next(std::string& scratch, std::string_view* bytes, bool* head) override {
    size_t i = requests_.size() == 1 ? 0 : picker_.Pick(ctx_.rng);
    const scenario::CompiledRequest& r = requests_[i];
    *head = head_[i];
    if (r.IsStatic()) {
      *bytes = r.StaticBytes();
      return int(i);
    }
    // The connection's buffer grows once to the largest request and is reused from then on.
    if (scratch.capacity() < r.RenderCapacityHint()) scratch.reserve(r.RenderCapacityHint());
    r.RenderInto(ctx_, scratch);
    *bytes = scratch;
    return int(i);
  }

 private:
  const std::vector<scenario::CompiledRequest>& requests_;
  const std::vector<bool>& head_;
  const scenario::WeightedPicker& picker_;
  scenario::RenderContext ctx_;
};

}  // namespace

ScenarioSource::ScenarioSource(const scenario::Scenario& scenario, std::vector<scenario::CompiledRequest> requests,
                               scenario::WeightedPicker picker, int worker_count, int shard_index,
                               int shard_count)
    : requests_(std::move(requests)),
      picker_(std::move(picker)),
      worker_count_(worker_count),
      shard_index_(shard_index),
      shard_count_(std::max(1, shard_count)) {
  for (const scenario::RequestSpec& r : scenario.requests) {
    head_.push_back(r.method == "HEAD");
    checks_.push_back(r.expect ? MakeResponseCheck(*r.expect) : nullptr);
  }
}

std::vector<const engine::ResponseCheck*> ScenarioSource::checks() const {
  std::vector<const engine::ResponseCheck*> out;
  for (const auto& c : checks_) out.push_back(c.get());
  return out;
}

std::vector<std::string> ScenarioSource::names() const {
  std::vector<std::string> out;
  for (const scenario::CompiledRequest& r : requests_) out.push_back(r.name());
  return out;
}

std::vector<int64_t> ScenarioSource::timeouts_ns() const {
  std::vector<int64_t> out;
  for (const scenario::CompiledRequest& r : requests_) out.push_back(r.timeout_ns());
  return out;
}

std::unique_ptr<engine::RequestStream> ScenarioSource::ForWorker(int worker_index, uint64_t seed) const {
  return std::make_unique<Stream>(requests_, head_, picker_,
                                  scenario::MakeRenderContext(requests_, seed, worker_index * shard_count_ + shard_index_,
                                                              worker_count_ * shard_count_));
}

}  // namespace headroom::exec

namespace headroom::exec {

std::unique_ptr<engine::RequestSource> MakeScenarioSource(const scenario::Scenario& scenario,
                                                          std::vector<scenario::CompiledRequest> requests,
                                                          scenario::WeightedPicker picker, int worker_count,
                                                          int shard_index, int shard_count) {
  return std::make_unique<ScenarioSource>(scenario, std::move(requests), std::move(picker), worker_count, shard_index,
                                          shard_count);
}

}  // namespace headroom::exec
