// A scenario request's `expect:` compiled into the engine's ResponseCheck (status codes, headers,
// body text, RE2 patterns and JSON fields). Immutable once built; evaluated on worker threads.
#pragma once
#include <memory>

#include "engine/engine.h"
#include "scenario/scenario.h"

namespace headroom::exec {

// REQUIRES: `expect` as validated by the scenario loader (its patterns compile).
std::unique_ptr<engine::ResponseCheck> MakeResponseCheck(const scenario::Expect& expect);

}  // namespace headroom::exec
