// Every scenario in examples/ (not examples/plans/, which holds plan files) must load, and its
// requests must compile to well-formed bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace headroom::scenario {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ExampleFiles() {
  std::vector<std::string> files;
  const fs::path dir = fs::path(HEADROOM_SOURCE_DIR) / "examples";
  if (!fs::exists(dir)) return files;
  for (const auto& e : fs::directory_iterator(dir)) {  // not recursive: skips examples/plans/
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml")) {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Example : public ::testing::TestWithParam<std::string> {};

TEST_P(Example, LoadsAndCompiles) {
  auto s = LoadScenario(GetParam());
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_FALSE(s->phases.empty());
  auto reqs = CompileRequests(*s, "127.0.0.1:8080");
  ASSERT_TRUE(reqs.has_value()) << reqs.error().message;
  RenderContext ctx = MakeRenderContext(*reqs, 1, 0, 1);
  std::string out;
  for (const CompiledRequest& r : *reqs) {
    r.RenderInto(ctx, out);
    EXPECT_NE(out.find(" HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\r\n\r\n"), std::string::npos) << out;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, Example, ::testing::ValuesIn(ExampleFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Examples, TheDocumentedOnesExist) {
  const auto files = ExampleFiles();
  for (const char* name : {"baseline.yaml", "stress.yaml", "soak-30m.yaml", "flash-sale.yaml", "pre-growth-gate.yaml"}) {
    EXPECT_TRUE(std::any_of(files.begin(), files.end(),
                            [&](const std::string& f) { return fs::path(f).filename() == name; }))
        << name;
  }
}

}  // namespace
}  // namespace headroom::scenario
