// CSV reading for scenario data sources (private to the scenario library). The first line names
// the columns; fields are comma-separated, optionally "quoted" with "" for a literal quote;
// lines end in \n or \r\n; blank lines are skipped. Errors are one line without the file name.
#pragma once
#include <string>
#include <string_view>

#include "scenario/scenario.h"

namespace headroom::scenario {

Result<CsvTable> ParseCsv(std::string_view text);
// Reads and parses `path`. Errors mention `display_path`.
Result<CsvTable> LoadCsvFile(const std::string& path, const std::string& display_path);

}  // namespace headroom::scenario
