// Helpers for end-to-end tests: run the headroom binary as a user would, read its files.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "target/target.h"

namespace e2e {

struct Proc {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs headroom with args. With `signal_when`, sends `sig` as soon as signal_when() is true (asked
// every 10 ms while headroom runs), so a test waits for something to happen, not for a time.
inline Proc RunHeadroom(const std::vector<std::string>& args, const std::function<bool()>& signal_when = {},
                        int sig = SIGINT) {
  std::string dir = std::filesystem::temp_directory_path() / ("hr-e2e-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string out_path = dir + "/out", err_path = dir + "/err";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> argv;
    std::string bin = HEADROOM_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  bool exited = false;
  if (signal_when) {
    while (!(exited = waitpid(pid, &status, WNOHANG) == pid) && !signal_when()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!exited) kill(pid, sig);
  }
  if (!exited) waitpid(pid, &status, 0);
  Proc p;
  p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  p.out = Slurp(out_path);
  p.err = Slurp(err_path);
  return p;
}

inline int Lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

inline std::unique_ptr<headroom::target::Server> Target(headroom::target::Options o = {}) {
  auto s = headroom::target::Server::Start(o);
  EXPECT_TRUE(s.has_value());
  return std::move(*s);
}

inline std::string Url(const headroom::target::Server& s, const std::string& path = "/") {
  return "http://127.0.0.1:" + std::to_string(s.port()) + path;
}

inline std::string TempDir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("hr-e2e-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove_all(p);
  return p;
}


}  // namespace e2e
