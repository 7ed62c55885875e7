// Every `headroom ...` command shown in README.md and docs/*.md runs here, against the embedded
// target on 127.0.0.1 with short durations, so the docs cannot drift from the program again.
//
// What counts as a command: in a fenced block labelled sh, bash or console, every line (joined over
// trailing backslashes, without a `$ ` prompt or a trailing `# comment`) that starts with
// `headroom ` or pipes into it; in an unlabelled fenced block, every line that starts with
// `headroom `. A command with a placeholder (FILE, DIR, 'CURL COMMAND') or an optional part
// ([--json]) is a synopsis: the subcommand must exist and each flag it names must be in that
// subcommand's --help. Every other command runs, rewritten only where it must change to run here
// (kRewrites), in a scratch folder holding the files the docs name but the project does not ship
// (kFixtures). A command must not exit 2 (usage or configuration error); one that sends no load
// must exit 0, except `headroom simulate`, whose exit 1 is its verdict (SLOs broken in the
// simulation), and `headroom merge`, which judges the merged shards' SLOs, as a run's exit 1 is a
// failed SLO.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "e2e_util.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct DocCommand {
  std::string where;  // "docs/x.md:12"
  std::string text;   // as a user would type it
};

// Shown in the docs but not runnable here; each must still appear in the docs (the test fails
// when one no longer does, so the list cannot go stale).
struct Exception {
  const char* prefix;  // a command starting with this
  const char* reason;
};
constexpr Exception kExceptions[] = {
    {"pbpaste | headroom import curl -", "pbpaste is the macOS clipboard; not on this machine"},
    {"headroom target listening on ", "what `headroom target` prints, not a command"},
    {"headroom plan: plan.yaml:", "an error message `headroom plan` prints, not a command"},
};

// Files the docs' commands name that the project does not ship; written into the scratch folder.
struct Fixture {
  const char* name;
  const char* content;
};
constexpr Fixture kFixtures[] = {
    {"checkout.yaml",  // docs/slo.md
     "name: checkout\n"
     "target: ${TARGET:-http://127.0.0.1:8080}\n"
     "requests:\n"
     "  - { name: home, path: / }\n"
     "phases:\n"
     "  - { name: steady, baseline: { rate: 50/s, duration: 1s } }\n"},
    {"throughput.csv",  // README.md: headroom model usl --csv throughput.csv
     "concurrency,throughput\n1,955\n2,1878\n4,3548\n8,6231\n16,9289\n32,10874\n64,9833\n"},
    {"session.har",  // docs/import.md
     R"({"log": {"version": "1.2", "entries": [{"request": {"method": "GET", "url": "http://127.0.0.1:8080/",
        "httpVersion": "HTTP/1.1", "headers": [], "queryString": []}, "response": {"status": 200}}]}})"},
    {"access.log",  // docs/import.md, in place of /var/log/nginx/access.log
     "127.0.0.1 - - [10/Oct/2025:13:55:36 +0000] \"GET / HTTP/1.1\" 200 2 \"-\" \"curl/8\"\n"
     "127.0.0.1 - - [10/Oct/2025:13:55:36 +0000] \"GET /users/123/orders HTTP/1.1\" 200 2 \"-\" \"curl/8\"\n"
     "127.0.0.1 - - [10/Oct/2025:13:55:37 +0000] \"GET /users/456/orders HTTP/1.1\" 200 2 \"-\" \"curl/8\"\n"},
};

// What must change to run a command here, and why.
//  - the docs' target 127.0.0.1:8080 -> the target this test started on a free port;
//  - /var/log/nginx/access.log -> the fixture access.log;
//  - `headroom run URL`: -d/--duration -> 1s (added when absent; the default is 10s);
//  - `headroom run FILE.yaml`: --target <started target> and --duration-scale 0.001 (every phase
//    of at least 1 s: a 30-minute soak runs in about 2 s).
// Relative --out folders land in the scratch folder, the working directory of every command.
std::string Rewrite(std::string cmd, const std::string& base_url) {
  cmd = std::regex_replace(cmd, std::regex(R"(https?://(127\.0\.0\.1|localhost):8080)"), base_url);
  cmd = std::regex_replace(cmd, std::regex(R"(/var/log/nginx/access\.log)"), "access.log");
  std::smatch m;
  if (!std::regex_search(cmd, m, std::regex(R"(^headroom run (\S+))"))) return cmd;
  const std::string what = m[1];
  if (what.ends_with(".yaml") || what.ends_with(".yml")) {
    cmd = std::regex_replace(cmd, std::regex(R"( --duration-scale[ =]\S+)"), "");
    cmd += " --duration-scale 0.001";
    if (cmd.find(" --target") == std::string::npos) cmd += " --target " + base_url;
    return cmd;
  }
  const std::regex duration(R"(( )(-d|--duration)[ =]\S+)");
  if (std::regex_search(cmd, duration)) return std::regex_replace(cmd, duration, "$1$2 1s");
  return cmd + " -d 1s";
}

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t") + 1);
  return s;
}

// Drops a shell comment: a '#' after a blank, outside quotes.
std::string StripComment(const std::string& line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return Trim(line.substr(0, i));
    }
  }
  return Trim(line);
}

std::vector<DocCommand> CommandsIn(const fs::path& md, const std::string& shown_as) {
  std::vector<std::string> lines;
  std::ifstream in(md);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<DocCommand> found;
  bool in_fence = false;
  std::string lang;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].starts_with("```")) {
      in_fence = !in_fence;
      lang = in_fence ? Trim(lines[i].substr(3)) : "";
      continue;
    }
    const bool shell = lang == "sh" || lang == "bash" || lang == "console";
    if (!in_fence || !(shell || lang.empty())) continue;
    const size_t first = i;
    std::string cmd = Trim(lines[i]);
    while (cmd.ends_with("\\") && i + 1 < lines.size()) {
      cmd.pop_back();
      cmd += " " + Trim(lines[++i]);
    }
    if (cmd.starts_with("$ ")) cmd = cmd.substr(2);
    cmd = StripComment(cmd);
    cmd = std::regex_replace(cmd, std::regex(" +"), " ");
    if (cmd.starts_with("headroom ") || (shell && cmd.find("| headroom ") != std::string::npos)) {
      found.push_back({shown_as + ":" + std::to_string(first + 1), cmd});
    }
  }
  return found;
}

std::vector<DocCommand> AllDocCommands() {
  const fs::path root = HEADROOM_SOURCE_DIR;
  std::vector<DocCommand> all = CommandsIn(root / "README.md", "README.md");
  std::vector<fs::path> docs;
  for (const auto& e : fs::directory_iterator(root / "docs")) {
    if (e.path().extension() == ".md") docs.push_back(e.path());
  }
  std::sort(docs.begin(), docs.end());
  for (const fs::path& d : docs) {
    auto more = CommandsIn(d, "docs/" + d.filename().string());
    all.insert(all.end(), more.begin(), more.end());
  }
  return all;
}

const Exception* ExceptionFor(const DocCommand& c) {
  for (const Exception& e : kExceptions) {
    if (c.text.starts_with(e.prefix)) return &e;
  }
  return nullptr;
}

// Shell-like words: quotes group and are removed.
std::vector<std::string> Words(const std::string& cmd) {
  std::vector<std::string> words;
  std::string cur;
  bool any = false;
  char quote = 0;
  for (char c : cmd) {
    if (quote != 0) {
      if (c == quote) quote = 0; else cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      any = true;
    } else if (c == ' ') {
      if (any || !cur.empty()) words.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
    }
  }
  if (any || !cur.empty()) words.push_back(cur);
  return words;
}

// FILE, FILE.har, PLAN.yaml, D/P, X%, CURL COMMAND: upper-case names standing for a value.
bool IsPlaceholder(std::string w) {
  w = std::regex_replace(w, std::regex(R"(\[|\]|\.\.\.)"), "");
  return std::regex_match(w, std::regex(R"([A-Z][A-Z0-9_ ]*([./][A-Za-z0-9]+)*%?)"));
}

bool IsSynopsis(const std::string& cmd) {
  if (cmd.find('[') != std::string::npos) return true;
  auto words = Words(cmd);
  return std::any_of(words.begin(), words.end(), IsPlaceholder);
}

struct Outcome {
  int exit_code = -1;
  bool timed_out = false;
  std::string out, err;
};

// Runs `sh -c cmd` in `dir` as its own process group; past `timeout`, interrupts the group.
Outcome RunShell(const std::string& cmd, const fs::path& dir, std::chrono::seconds timeout) {
  const std::string bin_dir = fs::path(HEADROOM_BINARY).parent_path();
  const std::string script = "cd '" + dir.string() + "' && PATH='" + bin_dir + "':\"$PATH\" && " + cmd;
  const std::string out_path = dir / ".stdout", err_path = dir / ".stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::string sh = "/bin/sh", dash_c = "-c", body = script;
  char* argv[] = {sh.data(), dash_c.data(), body.data(), nullptr};
  pid_t pid = -1;
  Outcome o;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return o;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (!o.timed_out && std::chrono::steady_clock::now() > deadline) {
      o.timed_out = true;
      kill(-pid, SIGINT);
    } else if (o.timed_out && std::chrono::steady_clock::now() > deadline + std::chrono::seconds(10)) {
      kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  o.out = e2e::Slurp(out_path);
  o.err = e2e::Slurp(err_path);
  return o;
}

TEST(DocsCommandsTest, TheDocsShowCommands) {
  // Guards the extraction itself: if it found nothing, every other check would pass vacuously.
  const auto all = AllDocCommands();
  EXPECT_GE(all.size(), 15u);
  for (const DocCommand& c : all) std::printf("%s: %s\n", c.where.c_str(), c.text.c_str());
}

TEST(DocsCommandsTest, EveryExceptionIsStillInTheDocs) {
  const auto all = AllDocCommands();
  for (const Exception& e : kExceptions) {
    const bool used = std::any_of(all.begin(), all.end(),
                                  [&](const DocCommand& c) { return c.text.starts_with(e.prefix); });
    EXPECT_TRUE(used) << "'" << e.prefix << "' is no longer shown in the docs: remove it from kExceptions";
  }
}

TEST(DocsCommandsTest, EverySynopsisNamesFlagsTheProgramHas) {
  const fs::path dir = e2e::TempDir("docs-synopsis");
  fs::create_directories(dir);
  for (const DocCommand& c : AllDocCommands()) {
    if (ExceptionFor(c) != nullptr || !IsSynopsis(c.text)) continue;
    const auto words = Words(c.text);
    std::string sub = "headroom";
    size_t i = 1;
    for (; i < words.size() && std::regex_match(words[i], std::regex("[a-z][a-z-]*")); ++i) sub += " " + words[i];
    const Outcome help = RunShell(sub + " --help", dir, std::chrono::seconds(30));
    ASSERT_EQ(help.exit_code, 0) << c.where << ": " << sub << " --help\n" << help.err;
    for (; i < words.size(); ++i) {
      std::string w = std::regex_replace(words[i], std::regex(R"(\[|\]|\.\.\.)"), "");
      if (w.size() < 2 || w[0] != '-' || std::isdigit(static_cast<unsigned char>(w[1]))) continue;
      w = w.substr(0, w.find('='));
      const std::regex listed("(^|[ ,\\[])" + std::regex_replace(w, std::regex("-"), "\\-") + "([ ,=\\]]|$)",
                              std::regex::multiline);
      EXPECT_TRUE(std::regex_search(help.out, listed))
          << c.where << ": `" << c.text << "` shows " << w << ", which `" << sub << " --help` does not list";
    }
  }
  fs::remove_all(dir);
}

TEST(DocsCommandsTest, EveryCommandRunsHere) {
  auto target = e2e::Target();
  ASSERT_NE(target, nullptr);
  const std::string base_url = "http://127.0.0.1:" + std::to_string(target->port());
  const fs::path dir = e2e::TempDir("docs-commands");
  fs::create_directories(dir);
  fs::create_directory_symlink(fs::path(HEADROOM_SOURCE_DIR) / "examples", dir / "examples");
  for (const Fixture& f : kFixtures) std::ofstream(dir / f.name) << f.content;
  int ran = 0;
  for (const DocCommand& c : AllDocCommands()) {
    if (ExceptionFor(c) != nullptr || IsSynopsis(c.text)) continue;
    if (c.text.ends_with("&")) continue;  // a background server (the test started its own target)
    const std::string cmd = Rewrite(c.text, base_url);
    std::printf("%s: %s\n", c.where.c_str(), cmd.c_str());
    std::fflush(stdout);
    const Outcome o = RunShell(cmd, dir, std::chrono::seconds(180));
    ++ran;
    EXPECT_FALSE(o.timed_out) << c.where << ": " << cmd << " did not finish within 180 s";
    EXPECT_NE(o.exit_code, 2) << c.where << ": " << cmd << " is refused:\n" << o.err;
    EXPECT_LT(o.exit_code, 126) << c.where << ": " << cmd << " did not start:\n" << o.err;
    if (!c.text.starts_with("headroom run ") && !c.text.starts_with("headroom simulate ") &&
        !c.text.starts_with("headroom merge ")) {
      EXPECT_EQ(o.exit_code, 0) << c.where << ": " << cmd << "\n" << o.err;
    }
  }
  EXPECT_GE(ran, 10);
  fs::remove_all(dir);
}

}  // namespace
