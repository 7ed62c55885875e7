// Private to the importer library: the draft scenario every importer fills in, its YAML writer,
// and the text rules shared by the importers (template escaping, path encoding, URL splitting).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "importer/importer.h"

namespace headroom::importer {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A request of the draft. `path`, header values and `body` are template text: literal input has
// been through EscapeTemplateText()/EncodePathLiteral(), templates were appended as they are.
struct DraftRequest {
  std::string name_hint;  // any text; WriteScenarioYaml() turns it into a unique request name
  double weight = 1;
  std::string method = "GET";
  std::string path = "/";
  HeaderList headers;
  std::optional<std::string> body;
};

enum class DraftPhaseKind { kBaseline, kRamp };

struct DraftPhase {
  std::string name;
  DraftPhaseKind kind = DraftPhaseKind::kBaseline;
  double rate_per_sec = 0;  // baseline
  double from_per_sec = 0;  // ramp
  double to_per_sec = 0;    // ramp
  int64_t duration_s = 1;
};

struct DraftScenario {
  std::string name;
  std::string description;
  std::string target;
  std::vector<DraftRequest> requests;
  std::vector<DraftPhase> phases;
};

// The scenario as YAML. Request names come from the hints ([a-z0-9_], unique, never empty).
std::string WriteScenarioYaml(const DraftScenario& draft);

// Text that renders to exactly `text`: each '{' followed by '{' becomes {{choice("{")}}.
std::string EscapeTemplateText(std::string_view text);
// Percent-encodes bytes outside visible ASCII (space and controls too), and '{' '}' if `braces`.
// '%' itself is kept: the input is already a request-target.
std::string PercentEncodeUnsafe(std::string_view text, bool braces);
// A literal piece of a path: bytes outside visible ASCII (and '%' is kept as is) are
// percent-encoded, then EscapeTemplateText() applies.
std::string EncodePathLiteral(std::string_view text);
// The argument of choice(): a double-quoted string, with '"' and '\' escaped. REQUIRES: no "}}".
std::string QuoteTemplateArg(std::string_view text);

// Input text quoted in a one-line message: control bytes as \xHH, cut after `max_bytes`.
std::string Shown(std::string_view text, size_t max_bytes = 80);

bool IsValidUtf8(std::string_view text);
bool IsHeaderToken(std::string_view name);
bool IsSupportedMethod(std::string_view upper_method);
bool EqualsNoCase(std::string_view a, std::string_view b);
std::string ToUpper(std::string_view text);

// "https://Api.example.com:8443/a?b#c" -> origin "https://api.example.com:8443", path "/a?b".
// A URL without a scheme is http (as curl does). Errors: another scheme, user info, an empty or
// malformed host.
struct SplitUrlResult {
  std::string origin;
  std::string host;
  std::string path_and_query;
};
Result<SplitUrlResult> SplitUrl(std::string_view url);

// "12.5/s": 4 decimals at most, more for rates under 10/s (6 significant digits); under 1e-9: 0/s.
std::string FormatRate(double per_sec);

// A request read from curl or HAR, exactly as it was sent.
struct RawRequest {
  std::string origin;
  std::string host;
  std::string method;
  std::string path_and_query;
  HeaderList headers;
  std::optional<std::string> body;
};

// An https:// target becomes ${TARGET_URL:-http://127.0.0.1:8080} with a note (headroom cannot send
// https yet), so that every imported file validates and runs.
void KeepTargetRunnable(DraftScenario& draft, std::vector<std::string>& notes);

// Deduplicates `requests` (weight = count), keeps those to the most frequent origin (the others
// are counted in a note), and writes the scenario with one baseline phase. `kind` is "curl" or
// "HAR" (used in the name, description and notes).
Result<Imported> BuildExactScenario(const std::vector<RawRequest>& requests, std::string_view kind,
                                    const Options& options, std::vector<std::string> notes);

}  // namespace headroom::importer
