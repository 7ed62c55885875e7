// headroom merge DIR... --out DIR: the shards of a distributed test (headroom run --shard I/N)
// merged into one test's results, its SLOs judged once (docs/distributed.md).
#include <chrono>
#include <cstdio>
#include <thread>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/units.h"
#include "exec/exec.h"
#include "explain/explain.h"
#include "report/summary.h"
#include "sys/sys.h"

namespace headroom::cli {

namespace {

// Every shard's output; with a wait, polls until each of the expected shards has finished (or the
// wait is over, when the merge then names what is missing).
Result<std::vector<exec::ShardOutput>> ReadShards(const std::vector<std::string>& dirs, int expect, int64_t wait_ns,
                                                  bool quiet) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(wait_ns);
  bool told = false;
  while (true) {
    const bool last = std::chrono::steady_clock::now() >= deadline || sys::StopRequested();
    auto folders = exec::ShardFolders(dirs);
    std::vector<exec::ShardOutput> shards;
    bool finished = folders.has_value();
    if (folders) {
      for (const std::string& dir : *folders) {
        auto shard = exec::ReadShardOutput(dir);
        if (!shard || !shard->results.complete) {
          finished = false;
          if (last && !shard) return std::unexpected(shard.error());
          if (shard) shards.push_back(std::move(*shard));
          continue;
        }
        shards.push_back(std::move(*shard));
      }
      const int count = expect > 0 ? expect : shards.empty() || !shards[0].results.shard ? 0 : shards[0].results.shard->count;
      finished = finished && int(shards.size()) >= count;
    }
    if (finished || last) {
      if (!folders) return std::unexpected(folders.error());
      return shards;
    }
    if (!told && !quiet) {
      std::fprintf(stderr, "headroom merge: waiting for the shards to finish\n");
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace

int MergeCommand(int argc, char** argv) {
  CLI::App app{"Merge the shards of a distributed test (headroom run --shard I/N) into one test's results: "
               "histograms added bucket by bucket, counters summed, seconds aligned, SLOs judged once "
               "(docs/distributed.md). Exit code 0 or 1 like run.",
               "headroom merge"};
  std::vector<std::string> dirs;
  std::string out, spread = "1s";
  bool quiet = false;
  app.add_option("dirs", dirs, "each shard's --out folder, or a folder whose subfolders are the shards' folders")
      ->required();
  app.add_option("-o,--out", out, "write DIR/results.json, summary.md, junit.xml, series.csv, results.hlog, report.html")
      ->required();
  app.add_option("--max-start-spread", spread,
                 "refuse shards whose first phases started further apart than this (default 1s)");
  int expect = 0;
  std::string wait = "0s";
  AddCount(app, "--shards", expect, "the test's shard count (checked against the shards' own; needed by --wait "
           "before any shard has finished)", 1, 10'000);
  app.add_option("--wait", wait,
                 "wait up to this long for every shard to finish (results.json complete), then merge, e.g. 30m; "
                 "a shard still missing then is named (default 0s: merge what is there)");
  app.add_flag("-q,--quiet", quiet, "print nothing but errors");
  if (auto rc = ParseArgs(app, argc, argv, "merge")) return *rc;
  sys::InstallStopSignals();
  auto spread_ns = ParseDurationNs(spread);
  if (!spread_ns || *spread_ns < 0) {
    std::fprintf(stderr, "headroom merge: --max-start-spread: %s\n",
                 spread_ns ? "must not be negative" : spread_ns.error().message.c_str());
    return 2;
  }
  auto wait_ns = ParseDurationNs(wait);
  if (!wait_ns || *wait_ns < 0) {
    std::fprintf(stderr, "headroom merge: --wait: %s\n", wait_ns ? "must not be negative" : wait_ns.error().message.c_str());
    return 2;
  }
  auto shards = ReadShards(dirs, expect, *wait_ns, quiet);
  if (!shards) {
    std::fprintf(stderr, "headroom merge: %s\n", shards.error().message.c_str());
    return 2;
  }
  if (expect > 0 && !shards->empty() && shards->front().results.shard &&
      shards->front().results.shard->count != expect) {
    std::fprintf(stderr, "headroom merge: --shards %d, but %s is shard %d of %d\n", expect, shards->front().dir.c_str(),
                 shards->front().results.shard->index, shards->front().results.shard->count);
    return 2;
  }
  exec::MergeOptions options;
  options.max_start_spread_s = double(*spread_ns) / 1e9;
  auto merged = exec::MergeShards(*shards, options);
  if (!merged) {
    std::fprintf(stderr, "headroom merge: %s\n", merged.error().message.c_str());
    return 2;
  }
  if (auto s = exec::WriteMerged(*merged, out); !s) {
    std::fprintf(stderr, "headroom merge: %s\n", s.error().message.c_str());
    return 2;
  }
  if (!quiet) {
    const std::optional<explain::Explanation> ranked = explain::ExplainRun(merged->results);
    std::fputs(report::FormatSummary(merged->results, ranked ? explain::Text(*ranked) : "").c_str(), stdout);
    std::printf("merged %d shards into %s/results.json\n", merged->results.merged->shards, out.c_str());
  }
  return report::VerdictExitCode(merged->results.verdict);
}

}  // namespace headroom::cli
