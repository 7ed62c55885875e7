// curl command lines and HAR files -> scenario files (testdata/curl, testdata/curl_bad,
// testdata/har). Every generated file is loaded by the real scenario loader, and the requests it
// renders are compared with what was imported.
#include <gtest/gtest.h>

#include <random>

#include "importer/draft.h"
#include "importer/importer.h"
#include "importer/test_util.h"

namespace headroom::importer {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // the helpers of test_util.h

Options CurlOptions() {
  Options o;
  o.read_file = [](const std::string& path) -> Result<std::string> {
    const fs::path p = kTestdata / "curl" / path;
    if (!fs::exists(p)) return Fail("cannot read data file '" + path + "'");
    return ReadText(p);
  };
  return o;
}

TEST(CurlImport, GoldenFiles) {
  int cases = 0;
  for (const fs::path& input : CaseFiles("curl", ".txt")) {
    SCOPED_TRACE(input.filename().string());
    ++cases;
    const std::vector<std::string> lines = {ReadText(input)};
    auto imported = ImportCurl(lines, CurlOptions());
    ASSERT_TRUE(imported.has_value()) << imported.error().message;
    MustLoad(imported->yaml);
    fs::path golden = input;
    ExpectGolden(golden.replace_extension(".yaml"), NotesText(*imported) + imported->yaml);
  }
  EXPECT_GE(cases, 7);
}

TEST(CurlImport, BadCommandsAreOneLineErrors) {
  int cases = 0;
  for (const fs::path& input : CaseFiles("curl_bad", ".txt")) {
    fs::path expected_path = input;
    std::string expected = ReadText(expected_path.replace_extension(".err"));
    while (!expected.empty() && expected.back() == '\n') expected.pop_back();
    SCOPED_TRACE(input.filename().string() + ": " + expected);
    ++cases;
    const std::vector<std::string> lines = {ReadText(input)};
    auto imported = ImportCurl(lines, CurlOptions());
    ASSERT_FALSE(imported.has_value());
    EXPECT_NE(imported.error().message.find(expected), std::string::npos) << imported.error().message;
    EXPECT_EQ(imported.error().message.find('\n'), std::string::npos);
  }
  EXPECT_GE(cases, 10);
}

TEST(CurlImport, DevtoolsCopyRendersTheSameRequest) {
  const std::vector<std::string> lines = {ReadText(kTestdata / "curl/devtools_copy.txt")};
  auto imported = ImportCurl(lines, CurlOptions());
  ASSERT_TRUE(imported.has_value()) << imported.error().message;
  scenario::Scenario s = MustLoad(imported->yaml);
  EXPECT_EQ(s.target, "http://127.0.0.1:8080") << "https is rewritten to a runnable ${TARGET_URL:-...} target";
  const std::string bytes = Render(s, 0);
  EXPECT_TRUE(bytes.starts_with("POST /api/cart/items?lang=en HTTP/1.1\r\n")) << bytes;
  EXPECT_NE(bytes.find("\r\ncookie: sid=8f2e; theme=dark\r\n"), std::string::npos) << bytes;
  EXPECT_TRUE(bytes.ends_with("\r\n\r\n{\"sku\":\"A-1\",\"note\":\"it's a gift\\nwrap it {{please}}\"}")) << bytes;
}

TEST(CurlImport, HostileTextRendersExactly) {
  // Random bodies and header values over the characters that break YAML, templates and shells:
  // whatever they hold, the file loads and the rendered request carries them unchanged.
  const std::string alphabet[] = {"{", "}", "{{", "}}", "\"", "'", "\\", "\n", "\t", ":", "# ", "- ", "&", "*",
                                  "%", "$", "!", "|", ">", "\xc3\xa9", "\xe2\x82\xac", "a", " ", "null", "~", "\x01"};
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int n = int(rng() % 12) + 1;
    for (int i = 0; i < n; ++i) text += alphabet[rng() % std::size(alphabet)];
    std::string quoted;  // as $'...' so any byte survives the shell splitter
    for (unsigned char c : text) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      quoted += buf;
    }
    std::string header_value = text;
    std::erase_if(header_value, [](char c) { return c == '\n'; });
    while (!header_value.empty() && (header_value.front() == ' ' || header_value.front() == '\t')) header_value.erase(0, 1);
    while (!header_value.empty() && (header_value.back() == ' ' || header_value.back() == '\t')) header_value.pop_back();
    std::string header_quoted;
    for (unsigned char c : header_value) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      header_quoted += buf;
    }
    const std::string cmd = "curl http://h.example/p --data-raw $'" + quoted + "'" +
                            (header_value.empty() ? "" : " -H $'X-V: " + header_quoted + "'");
    SCOPED_TRACE(cmd);
    const std::vector<std::string> lines = {cmd};
    auto imported = ImportCurl(lines, Options{});
    ASSERT_TRUE(imported.has_value()) << imported.error().message;
    scenario::Scenario s = MustLoad(imported->yaml);
    ASSERT_EQ(s.requests.size(), 1u);
    const std::string bytes = Render(s, 0);
    EXPECT_TRUE(bytes.ends_with("\r\n\r\n" + text)) << bytes;
    if (!header_value.empty()) {
      EXPECT_NE(bytes.find("\r\nX-V: " + header_value + "\r\n"), std::string::npos) << bytes;
    }
  }
}

TEST(CurlImport, PathsWithTemplatesAndSpacesAreEncoded) {
  const std::vector<std::string> lines = {"curl 'http://h.example/a b/{{x}}/{{{y}}}?q=\"1\"'"};
  auto imported = ImportCurl(lines, Options{});
  ASSERT_TRUE(imported.has_value()) << imported.error().message;
  scenario::Scenario s = MustLoad(imported->yaml);
  EXPECT_TRUE(Render(s, 0).starts_with("GET /a%20b/{{x}}/{{{y}}}?q=\"1\" HTTP/1.1\r\n")) << Render(s, 0);
}

TEST(CurlImport, TargetAndNameOverride) {
  Options o;
  o.target = "${TARGET_URL:-http://127.0.0.1:9000}";
  o.name = "my test";
  const std::vector<std::string> lines = {"curl https://api.example.com/x"};
  auto imported = ImportCurl(lines, o);
  ASSERT_TRUE(imported.has_value());
  scenario::Scenario s = MustLoad(imported->yaml);
  EXPECT_EQ(s.target, "http://127.0.0.1:9000");
  EXPECT_EQ(s.name, "my test");
}

TEST(ShellSplit, QuotingAsBashDoes) {
  auto cmds = SplitShellCommands("curl 'a b' \"c \\\"d\\\" \\$e\" f\\ g $'h\\ni\\'' \\\n  -X\\\nPOST # comment\ncurl x");
  ASSERT_TRUE(cmds.has_value()) << cmds.error().message;
  ASSERT_EQ(cmds->size(), 2u);
  const std::vector<std::string> want = {"curl", "a b", "c \"d\" $e", "f g", "h\ni'", "-XPOST"};
  EXPECT_EQ((*cmds)[0], want);
  EXPECT_EQ((*cmds)[1], (std::vector<std::string>{"curl", "x"}));
  EXPECT_FALSE(SplitShellCommands("curl \"abc").has_value());
  EXPECT_FALSE(SplitShellCommands("curl $'abc").has_value());
  auto piped = SplitShellCommands("curl u | jq '.a' && curl v");
  ASSERT_TRUE(piped.has_value());
  EXPECT_EQ(*piped, (std::vector<std::vector<std::string>>{{"curl", "u"}, {"curl", "v"}}));
}

TEST(HarImport, GoldenFile) {
  auto imported = ImportHar(ReadText(kTestdata / "har/shop.har"), Options{});
  ASSERT_TRUE(imported.has_value()) << imported.error().message;
  scenario::Scenario s = MustLoad(imported->yaml);
  ExpectGolden(kTestdata / "har/shop.yaml", NotesText(*imported) + imported->yaml);
  ASSERT_EQ(s.requests.size(), 3u);
  EXPECT_EQ(s.requests[0].weight, 3);  // the three identical GETs
  EXPECT_EQ(s.target, "http://127.0.0.1:8080") << "https is rewritten to a runnable ${TARGET_URL:-...} target";
  for (const scenario::Header& h : s.requests[0].headers) {
    EXPECT_NE(h.name[0], ':');
    EXPECT_FALSE(EqualsNoCase(h.name, "cookie"));
    EXPECT_FALSE(EqualsNoCase(h.name, "connection"));
  }
  EXPECT_TRUE(Render(s, 2).ends_with("\r\n\r\n{\"sku\":\"A-1\",\"qty\":2,\"x\":\"{{\"}")) << Render(s, 2);
}

TEST(HarImport, CookiesKeptWhenAsked) {
  Options o;
  o.keep_cookies = true;
  auto imported = ImportHar(ReadText(kTestdata / "har/shop.har"), o);
  ASSERT_TRUE(imported.has_value());
  EXPECT_NE(Render(MustLoad(imported->yaml), 0).find("\r\ncookie: sid=abc123\r\n"), std::string::npos);
}

TEST(HarImport, NotAHar) {
  auto a = ImportHar(ReadText(kTestdata / "har/not_json.har"), Options{});
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().message, "not a HAR file: the text is not JSON");
  auto b = ImportHar(ReadText(kTestdata / "har/no_entries.har"), Options{});
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().message, "not a HAR file: no log.entries list");
  EXPECT_FALSE(ImportHar("[1,2]", Options{}).has_value());
  EXPECT_FALSE(ImportHar("{\"log\":{\"entries\":[]}}", Options{}).has_value());
  EXPECT_FALSE(ImportHar("{\"log\":{\"entries\":[{\"request\":{\"method\":7}}]}}", Options{}).has_value());
}

TEST(TemplateEscape, NoDoubleBraceIsLeft) {
  for (std::string_view text : {"{{", "{{{", "a{{b}}c", "{", "}}{{", "{{{{{"}) {
    const std::string e = EscapeTemplateText(text);
    std::string stripped;  // the escaped text without its escape templates
    for (size_t pos = 0; pos < e.size();) {
      if (e.compare(pos, 15, "{{choice(\"{\")}}") == 0) {
        stripped += '{';
        pos += 15;
      } else {
        EXPECT_NE(e.compare(pos, 2, "{{"), 0) << e;
        stripped += e[pos++];
      }
    }
    EXPECT_EQ(stripped, text);
  }
}

}  // namespace
}  // namespace headroom::importer
