// Argument parsing shared by the subcommands (CLI11).
#pragma once
#include <CLI/CLI.hpp>
#include <optional>

namespace headroom::cli {

// Parses argv into `app`. Returns nullopt when the command should go on; otherwise the exit code
// to return: 0 after printing --help, 2 after one line "headroom <command>: <error>" on stderr.
std::optional<int> ParseArgs(CLI::App& app, int argc, char** argv, const char* command);

}  // namespace headroom::cli
