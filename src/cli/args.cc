#include "cli/args.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "core/diag.h"

namespace headroom::cli {

std::optional<int> ParseArgs(CLI::App& app, int argc, char** argv, const char* command) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
    std::string hint;
    // An unknown flag gets the closest known one: --rat -> --rate.
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
      std::vector<std::string> flags;
      for (const CLI::Option* o : app.get_options()) {
        for (const std::string& name : o->get_lnames()) flags.push_back("--" + name);
      }
      for (int i = 1; i < argc && hint.empty(); ++i) {
        std::string arg = argv[i];
        if (!arg.starts_with("--")) continue;
        arg = arg.substr(0, arg.find('='));
        if (std::find(flags.begin(), flags.end(), arg) == flags.end()) hint = DidYouMean(arg, flags);
      }
    }
    std::fprintf(stderr, "headroom %s: %s%s (see 'headroom %s --help')\n", command, e.what(), hint.c_str(), command);
    return 2;
  }
  return std::nullopt;
}

CLI::Option* AddCount(CLI::App& app, const std::string& names, int& value, const std::string& help, int min,
                      int max) {
  const std::string range = std::to_string(min) + " and " + std::to_string(max);
  // CLI11 runs the check on the text before converting it, so the check also refuses non-numbers.
  auto check = [min, max, range](const std::string& text) -> std::string {
    long long n = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (text.empty() || ec == std::errc::invalid_argument || ptr != end) {
      return "must be a whole number between " + range + ", not '" + text + "'";
    }
    if (ec == std::errc::result_out_of_range || n < min || n > max) {
      return "must be between " + range + ", not " + text;
    }
    return "";
  };
  return app.add_option(names, value, help)->check(CLI::Validator(check, "INT in [" + std::to_string(min) + ".." + std::to_string(max) + "]", "count"));
}

bool ApplyEnv(const std::vector<std::string>& assignments, const char* command) {
  for (const std::string& e : assignments) {
    const size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "headroom %s: -e '%s': expected NAME=VALUE\n", command, e.c_str());
      return false;
    }
    ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
  }
  return true;
}

}  // namespace headroom::cli
