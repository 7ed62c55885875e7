// headroom import curl|har|access-log: writes a scenario file from curl command lines, a HAR
// file or an access log (the rules are in src/importer). Notes go to stderr, the file to --out
// or stdout.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/diag.h"
#include "importer/importer.h"

namespace headroom::cli {
namespace {

int Error(const std::string& message) {
  std::fprintf(stderr, "headroom import: %s\n", message.c_str());
  return 2;
}

Result<std::string> ReadWhole(const std::string& path) {
  if (path == "-") {
    std::stringstream s;
    s << std::cin.rdbuf();
    return s.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot open '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) return Fail("cannot read '" + path + "'");
  return s.str();
}

int Emit(const Result<importer::Imported>& imported, const std::string& out_path, bool quiet) {
  if (!imported) return Error(imported.error().message);
  if (!quiet) {
    for (const std::string& note : imported->notes) std::fprintf(stderr, "headroom import: note: %s\n", note.c_str());
  }
  if (out_path.empty() || out_path == "-") {
    std::fwrite(imported->yaml.data(), 1, imported->yaml.size(), stdout);
    return 0;
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << imported->yaml;
  out.close();
  if (!out) return Error("cannot write '" + out_path + "'");
  if (!quiet) std::fprintf(stderr, "headroom import: wrote %s (check it with: headroom validate %s)\n",
                           out_path.c_str(), out_path.c_str());
  return 0;
}

}  // namespace

int ImportCommand(int argc, char** argv) {
  CLI::App app{"Write a scenario file from curl command lines, a HAR file or an access log (docs/import.md)",
               "headroom import"};
  app.require_subcommand(1);
  importer::Options options;
  std::string out_path, speed = "1x";
  bool quiet = false;
  std::vector<std::string> curl_lines;
  std::string har_path, log_path;
  app.add_option("--out,-o", out_path, "write the scenario here (default: stdout)");
  app.add_option("--target", options.target, "target URL to write instead of the detected one");
  app.add_option("--name", options.name, "scenario name");
  app.add_flag("--quiet,-q", quiet, "print no notes");
  app.fallthrough();
  CLI::App* curl = app.add_subcommand("curl", "curl command lines, each one argument in quotes ('-': read stdin)");
  curl->add_option("command", curl_lines, "curl command line(s)")->required();
  CLI::App* har = app.add_subcommand("har", "a HAR file saved from browser devtools or a proxy");
  har->add_option("file", har_path, "HAR file ('-': stdin)")->required();
  har->add_flag("--cookies", options.keep_cookies, "keep Cookie headers (dropped by default)");
  CLI::App* log = app.add_subcommand("access-log", "an nginx/Apache access log (combined or common format)");
  log->add_option("file", log_path, "log file ('-': stdin)")->required();
  log->add_option("--speed", speed, "replay at this multiple of the logged rate, like 3x (default 1x)");
  log->add_option("--max-requests", options.max_requests, "request shapes to write, most frequent first (default 50)")
      ->check(CLI::Range(1, 100000));
  log->add_option("--step", options.step_s, "seconds of log per replay ramp phase (default 60)")
      ->check(CLI::Range(1, 86400));
  for (CLI::App* sub : {curl, har, log}) sub->fallthrough();
  // The first word that is not an option names the kind; a typo gets a suggestion, not CLI11's
  // "A subcommand is required".
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') {
      if (word == "--out" || word == "-o" || word == "--target" || word == "--name") ++i;  // skip the value
      continue;
    }
    if (word != "curl" && word != "har" && word != "access-log") {
      return Error("unknown kind '" + word + "'" + DidYouMean(word, {"curl", "har", "access-log"}) +
                   " (headroom import curl|har|access-log ...)");
    }
    break;
  }
  if (auto code = ParseArgs(app, argc, argv, "import")) return *code;

  if (curl->parsed()) {
    if (curl_lines.size() == 1 && curl_lines[0] == "-") {
      auto text = ReadWhole("-");
      if (!text) return Error(text.error().message);
      curl_lines = {*text};
    }
    return Emit(importer::ImportCurl(curl_lines, options), out_path, quiet);
  }
  if (har->parsed()) {
    auto text = ReadWhole(har_path);
    if (!text) return Error(text.error().message);
    return Emit(importer::ImportHar(*text, options), out_path, quiet);
  }
  auto multiple = importer::ParseSpeed(speed);
  if (!multiple) return Error(multiple.error().message);
  options.speed = *multiple;
  if (log_path == "-") return Emit(importer::ImportAccessLog(std::cin, options), out_path, quiet);
  std::ifstream in(log_path, std::ios::binary);
  if (!in) return Error("cannot open '" + log_path + "'");
  return Emit(importer::ImportAccessLog(in, options), out_path, quiet);
}

}  // namespace headroom::cli
