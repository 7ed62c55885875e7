// `{{ ... }}` templates (docs/scenario.md#templates), compiled once into parts that are rendered
// per request without allocation. Private to the scenario library.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/scenario.h"

namespace headroom::scenario {

struct TemplatePart {
  enum class Kind : uint8_t { kLiteral, kRandInt, kSeq, kUuid, kChoice, kData };
  Kind kind = Kind::kLiteral;
  std::string text;                  // kLiteral
  int64_t a = 0;                     // kRandInt: low bound; kSeq: start
  int64_t b = 0;                     // kRandInt: high bound (inclusive)
  uint32_t id = 0;                   // kSeq: counter id; kData: data source index
  uint32_t column = 0;               // kData: column index
  std::vector<std::string> choices;  // kChoice
};

// Appends the parts of `text` to `out` (adjacent literals are merged). seq() occurrences take
// ids from `next_seq_id`. env() is resolved here. The error is one line without position.
Status CompileTemplate(std::string_view text, std::span<const DataSource> data, uint32_t& next_seq_id,
                       std::vector<TemplatePart>& out);
// Appends a literal part (merged with a trailing literal).
void AppendLiteral(std::vector<TemplatePart>& out, std::string_view text);
// Largest number of bytes `part` can render to.
size_t MaxRenderedBytes(const TemplatePart& part, std::span<const DataSource> data);
// The names a template may call, for did-you-mean.
inline constexpr std::string_view kTemplateFunctions[] = {"randint", "seq", "uuid", "choice", "env"};

}  // namespace headroom::scenario
