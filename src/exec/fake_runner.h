// A PhaseRunner that replays scripted seconds instead of sending requests: the phase rules are
// tested with it, fast and without sockets or sleeps. Public to tests of exec and of its callers.
// Thread-safety: one run at a time, like the engine.
#pragma once
#include <functional>
#include <string_view>
#include <vector>

#include "exec/exec.h"

namespace headroom::exec {

struct FakeSecond {
  engine::Counters counters;
  Histogram response_time_us;
};

// One scripted second, as text: space-separated items
//   N@LATENCY        N successful responses that took LATENCY (e.g. 100@5ms, 3@1.5s)
//   CLASS=N          N failed requests of an error class (connect_refused, http_5xx, reset, ...)
//   -                an empty second
// e.g. "90@5ms 10@800ms http_5xx=2". Errors: one line naming the item.
Result<FakeSecond> ParseFakeSecond(std::string_view text);

class FakeRunner final : public PhaseRunner {
 public:
  // Returns the seconds of the `run_index`-th engine run (0-based) for its configuration.
  using Script = std::function<std::vector<FakeSecond>(const engine::Config& config, int run_index)>;
  explicit FakeRunner(Script script) : script_(std::move(script)) {}

  // Calls on_second for each scripted second; stops early (interrupted) once config.stop or
  // config.abort is set, as the engine does.
  Result<engine::RunStats> Run(const engine::Config& config, const engine::SecondCallback& on_second) override;

  const std::vector<engine::Config>& configs() const { return configs_; }  // every run asked for, in order

 private:
  Script script_;
  std::vector<engine::Config> configs_;
};

}  // namespace headroom::exec
