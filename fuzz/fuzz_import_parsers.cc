// The importer's parsers on arbitrary text must not crash. The first byte picks the parser:
// an access-log line, curl command lines (a whole import), or a whole access log. Errors are one
// line; an accepted log line has a method and a target starting with '/'; an imported scenario
// is YAML that parses again.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "importer/importer.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckImported(const headroom::Result<headroom::importer::Imported>& imported) {
  if (!imported) {
    Check(imported.error().message.find('\n') == std::string::npos);
    return;
  }
  try {
    const YAML::Node doc = YAML::Load(imported->yaml);
    Check(doc.IsMap() && doc["requests"].IsSequence() && doc["phases"].IsSequence());
  } catch (const YAML::Exception&) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  headroom::importer::Options options;
  options.read_file = [](const std::string&) -> headroom::Result<std::string> { return std::string("a=1"); };
  switch (data[0] % 3) {
    case 0: {
      const auto line = headroom::importer::ParseAccessLogLine(text);
      if (!line) {
        Check(line.error().message.find('\n') == std::string::npos);
      } else {
        Check(!line->method.empty() && !line->target.empty() && line->target[0] == '/');
      }
      break;
    }
    case 1: {
      const std::vector<std::string> lines = {text};
      CheckImported(headroom::importer::ImportCurl(lines, options));
      break;
    }
    default: {
      std::istringstream in(text);
      options.step_s = 1;
      CheckImported(headroom::importer::ImportAccessLog(in, options));
      break;
    }
  }
  return 0;
}
