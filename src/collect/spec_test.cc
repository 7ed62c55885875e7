// Data-driven: testdata/specs.tsv lists watch specs and the label (passwords redacted) or the
// error each must give.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "collect/collect.h"

namespace headroom::collect {
namespace {

namespace fs = std::filesystem;

TEST(ParseWatchSpec, Table) {
  std::ifstream in(fs::path(HEADROOM_SOURCE_DIR) / "src/collect/testdata/specs.tsv");
  ASSERT_TRUE(in.good());
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const std::string spec = line.substr(0, tab), expected = line.substr(tab + 1);
    auto parsed = ParseWatchSpec(spec);
    const std::string actual = parsed ? parsed->label : "error: " + parsed.error().message;
    EXPECT_EQ(actual, expected) << "spec: '" << spec << "'";
    EXPECT_EQ(actual.find("hunter2"), std::string::npos) << "password leaked for '" << spec << "'";
    ++cases;
  }
  EXPECT_GE(cases, 25);
}

TEST(ParseWatchSpec, KindAndArgument) {
  auto pg = ParseWatchSpec("postgres:host=127.0.0.1 password=x dbname=shop");
  ASSERT_TRUE(pg.has_value());
  EXPECT_EQ(pg->kind, SourceKind::kPostgres);
  EXPECT_EQ(pg->arg, "host=127.0.0.1 password=x dbname=shop") << "libpq gets the conninfo unchanged";
  auto process = ParseWatchSpec("process:1234");
  EXPECT_EQ(process->kind, SourceKind::kProcess);
  EXPECT_EQ(process->arg, "1234");
}

TEST(ParseTierSpec, NumbersBadSourcesAndSetsSelectors) {
  auto tier = ParseTierSpec("app", "app", {"process:api", "prometheus:http://127.0.0.1:9100/metrics"}, 500'000'000,
                            {"http_*"});
  ASSERT_TRUE(tier.has_value()) << tier.error().message;
  EXPECT_EQ(tier->interval_ns, 500'000'000);
  EXPECT_TRUE(tier->sources[0].selectors.empty());
  EXPECT_EQ(tier->sources[1].selectors, std::vector<std::string>{"http_*"});
  auto bad = ParseTierSpec("db", "database", {"host", "redis:"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "source 2: redis needs HOST:PORT: redis:127.0.0.1:6379");
  EXPECT_EQ(ParseTierSpec("db", "database", {}).error().message, "tier 'db' has no sources");
}

TEST(RedactConninfo, KeepsEverythingButThePassword) {
  EXPECT_EQ(RedactConninfo("password=abc"), "password=***");
  EXPECT_EQ(RedactConninfo("user=a password = abc host=h"), "user=a password = *** host=h");
  EXPECT_EQ(RedactConninfo("passwordless=1 host=h"), "passwordless=1 host=h");
  EXPECT_EQ(RedactConninfo("postgres://u:p%40ss@h:5/db"), "postgres://u:***@h:5/db");
  EXPECT_EQ(RedactConninfo("postgres://u@h/db"), "postgres://u@h/db");
}

}  // namespace
}  // namespace headroom::collect
