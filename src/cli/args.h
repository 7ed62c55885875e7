// Argument parsing shared by the subcommands (CLI11).
#pragma once
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace headroom::cli {

// Parses argv into `app`. Returns nullopt when the command should go on; otherwise the exit code
// to return: 0 after printing --help, 2 after one line "headroom <command>: <error>" on stderr.
std::optional<int> ParseArgs(CLI::App& app, int argc, char** argv, const char* command);

// Adds an option for a count (threads, connections...) that, when given, must be a whole number in
// [min, max]. Anything else is a parse error, so ParseArgs prints one line such as
// "headroom run: --connections: must be between 1 and 1000000, not 0" and returns 2. `value`
// keeps its default when the option is not given.
CLI::Option* AddCount(CLI::App& app, const std::string& names, int& value, const std::string& help, int min,
                      int max);

// Sets each NAME=VALUE of -e/--env in the environment (for ${NAME} and env(NAME) in scenario
// files). Returns false after one line "headroom <command>: -e 'X': expected NAME=VALUE".
bool ApplyEnv(const std::vector<std::string>& assignments, const char* command);

}  // namespace headroom::cli
