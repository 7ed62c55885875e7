// Validation of one SLO expression's text (without any "request." prefix) for scenario loading.
// Private to the scenario library. Thread-safe.
#pragma once
#include <string_view>

#include "core/status.h"

namespace headroom::scenario {

// Ok, or a one-line explanation of what is wrong with `text` (e.g. "p95 < 300 ms").
Status CheckSloText(std::string_view text);

}  // namespace headroom::scenario
