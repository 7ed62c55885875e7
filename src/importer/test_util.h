// Helpers for the importer tests: testdata files, golden comparison, and the proof that a
// generated scenario loads and renders the bytes it was imported from.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "importer/importer.h"
#include "scenario/scenario.h"

namespace headroom::importer::testing {

inline const std::filesystem::path kTestdata = std::filesystem::path(HEADROOM_SOURCE_DIR) / "src/importer/testdata";

inline std::string ReadText(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The files of `dir` whose names end in `ext`, sorted.
inline std::vector<std::filesystem::path> CaseFiles(const std::string& dir, const std::string& ext) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(kTestdata / dir)) {
    if (entry.path().extension() == ext) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The notes as comment lines, put before the YAML in golden files.
inline std::string NotesText(const Imported& imported) {
  std::string text;
  for (const std::string& n : imported.notes) text += "# " + n + "\n";
  return text;
}

// Compares `actual` with the golden file. With HEADROOM_WRITE_GOLDEN=1 the golden is written
// instead (then read the diff before committing it).
inline void ExpectGolden(const std::filesystem::path& golden, const std::string& actual) {
  if (std::getenv("HEADROOM_WRITE_GOLDEN") != nullptr) {
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(golden)) << golden << " is missing; actual:\n" << actual;
  EXPECT_EQ(ReadText(golden), actual) << "golden: " << golden;
}

// Loads the YAML with the real scenario loader; fails the test with the loader's errors.
inline scenario::Scenario MustLoad(const std::string& yaml) {
  auto s = scenario::LoadScenarioFromString(yaml, "imported.yaml");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message) << "\n---\n" << yaml;
  return s ? *s : scenario::Scenario{};
}

// The bytes the engine would send for request `index` (first render, seed 1).
inline std::string Render(const scenario::Scenario& s, size_t index) {
  auto compiled = scenario::CompileRequests(s, "h.example");
  EXPECT_TRUE(compiled.has_value()) << (compiled ? "" : compiled.error().message);
  if (!compiled || index >= compiled->size()) return "";
  scenario::RenderContext ctx = scenario::MakeRenderContext(*compiled, 1, 0, 1);
  std::string out;
  (*compiled)[index].RenderInto(ctx, out);
  return out;
}

}  // namespace headroom::importer::testing
