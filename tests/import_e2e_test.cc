// headroom import as a user runs it: every kind writes a file that `headroom validate` accepts,
// and bad input is one line on stderr with exit code 2.
#include "e2e_util.h"

namespace {

const std::string kData = std::string(HEADROOM_SOURCE_DIR) + "/src/importer/testdata";

void ExpectImportValidates(const std::vector<std::string>& import_args, const std::string& name) {
  const std::string dir = e2e::TempDir("import-" + name);
  std::filesystem::create_directories(dir);
  const std::string out = dir + "/" + name + ".yaml";
  std::vector<std::string> args = {"import"};
  args.insert(args.end(), import_args.begin(), import_args.end());
  args.insert(args.end(), {"--out", out});
  e2e::Proc imported = e2e::RunHeadroom(args);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  e2e::Proc validated = e2e::RunHeadroom({"validate", out});
  EXPECT_EQ(validated.exit_code, 0) << validated.err << "\n" << e2e::Slurp(out);
  EXPECT_NE(validated.out.find(": ok ("), std::string::npos) << validated.out;
  std::filesystem::remove_all(dir);
}

TEST(ImportE2E, CurlHarAndAccessLogFilesValidate) {
  ExpectImportValidates({"curl", "curl -X POST https://api.example.com/orders -H 'Content-Type: application/json' "
                                 "-d '{\"item\": 42}'",
                         "curl -u a:b 'https://api.example.com/orders?page=2'"},
                        "curl");
  ExpectImportValidates({"curl", e2e::Slurp(kData + "/curl/devtools_copy.txt")}, "devtools");
  ExpectImportValidates({"har", kData + "/har/shop.har", "--cookies"}, "har");
  ExpectImportValidates({"access-log", kData + "/logs/ids.log", "--speed", "3x", "--target", "http://127.0.0.1:9"},
                        "log");
  ExpectImportValidates({"access-log", kData + "/logs/malformed.log", "--step", "1", "--name", "replay"}, "malformed");
}

TEST(ImportE2E, BadInputIsOneLineAndExit2) {
  const std::vector<std::vector<std::string>> cases = {
      {"import", "har", "/nonexistent/file.har"},
      {"import", "har", kData + "/har/not_json.har"},
      {"import", "curl", "wget http://example.com/"},
      {"import", "curl", "curl -F a=@b http://example.com/"},
      {"import", "access-log", kData + "/har/not_json.har"},
      {"import", "access-log", kData + "/logs/ids.log", "--speed", "fast"},
      {"import", "zip", "x"},
      {"import"},
  };
  for (const auto& args : cases) {
    e2e::Proc p = e2e::RunHeadroom(args);
    EXPECT_EQ(p.exit_code, 2) << args[args.size() - 1];
    EXPECT_EQ(e2e::Lines(p.err), 1) << p.err;
    EXPECT_TRUE(p.err.starts_with("headroom import: ")) << p.err;
    EXPECT_TRUE(p.out.empty()) << p.out;
  }
}

TEST(ImportE2E, WritesToStdoutByDefault) {
  e2e::Proc p = e2e::RunHeadroom({"import", "curl", "curl http://127.0.0.1:8080/health"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("target: \"http://127.0.0.1:8080\""), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("path: \"/health\""), std::string::npos) << p.out;
}

}  // namespace
