// ParsePrometheusText on arbitrary bytes must not crash; an error is one line naming its line
// number; an accepted body's samples, written back out in the text format, parse to the same
// samples (names, unescaped label values and values).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collect/collect.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

std::string ValueText(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::vector<headroom::collect::PromSample> Flatten(const std::vector<headroom::collect::PromFamily>& families) {
  std::vector<headroom::collect::PromSample> out;
  for (const auto& f : families) {
    Check(!f.samples.empty());
    for (const auto& s : f.samples) out.push_back(s);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto parsed = headroom::collect::ParsePrometheusText(body, {.max_samples = 10'000});
  if (!parsed) {
    const std::string& m = parsed.error().message;
    Check(m.starts_with("line ") && m.find('\n') == std::string::npos);
    return 0;
  }
  const auto samples = Flatten(*parsed);
  std::string text;
  for (const auto& s : samples) {
    text += headroom::collect::PromSeriesName(s.name, s.labels);
    text += " " + ValueText(s.value) + "\n";
  }
  const auto again = headroom::collect::ParsePrometheusText(text, {.max_samples = 10'000});
  Check(again.has_value());
  const auto round = Flatten(*again);
  Check(round.size() == samples.size());
  for (size_t i = 0; i < round.size(); ++i) {
    Check(round[i].name == samples[i].name && round[i].labels == samples[i].labels);
    Check(round[i].value == samples[i].value || (std::isnan(round[i].value) && std::isnan(samples[i].value)));
  }
  return 0;
}
