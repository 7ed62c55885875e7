// headroom k8s SCENARIO --parallelism N --image IMAGE --out DIR: the manifests that run a scenario
// on N generator pods and merge their results (docs/distributed.md).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/units.h"
#include "plan/plan.h"
#include "report/results.h"
#include "scenario/scenario.h"

namespace headroom::cli {
namespace {

namespace fs = std::filesystem;

// Without a calibration run: a conservative share of what one core drives (bench/ measures more).
constexpr double kDefaultPerCoreRps = 50'000;

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The highest rate any phase asks for (stress: its ceiling).
double PeakRps(const scenario::Scenario& sc) {
  double peak = 0;
  for (const scenario::Phase& p : sc.phases) {
    for (double r : {p.rate_per_sec, p.from_per_sec, p.to_per_sec, p.ceiling_per_sec}) peak = std::max(peak, r);
  }
  return peak;
}

// Planned seconds of the whole test (a stress phase: at most 20 steps and their pauses).
int64_t PlannedS(const scenario::Scenario& sc) {
  int64_t ns = 0;
  for (const scenario::Phase& p : sc.phases) {
    ns += p.kind == scenario::PhaseKind::kStress ? 20 * (p.step_duration_ns + 2'000'000'000) : p.duration_ns + 2'000'000'000;
  }
  return ns / 1'000'000'000;
}

// The ConfigMap's files: the scenario, then each data file at its path relative to the scenario.
Result<std::vector<plan::K8sFile>> Files(const std::string& path, const scenario::Scenario& sc) {
  std::vector<plan::K8sFile> files;
  auto text = ReadText(path);
  if (!text) return std::unexpected(text.error());
  const std::string name = fs::path(path).filename().string();
  files.push_back({"scenario.yaml", name, *text});
  for (const scenario::DataSource& d : sc.data) {
    std::error_code ec;
    const fs::path rel = fs::path(d.path).lexically_relative(fs::path(sc.base_dir));
    if (rel.empty() || rel.is_absolute() || rel.string().starts_with("..")) {
      return Fail("data " + d.name + ": " + d.path + " is outside the scenario's folder; keep data files beside it");
    }
    auto data = ReadText(d.path);
    if (!data) return std::unexpected(data.error());
    std::string key = "data-" + rel.string();
    std::replace(key.begin(), key.end(), '/', '-');
    files.push_back({key, rel.string(), *data});
  }
  return files;
}

}  // namespace

int K8sCommand(int argc, char** argv) {
  CLI::App app{"Write Kubernetes manifests that run a scenario on N generator pods (an Indexed Job, one shard "
               "each), keep their results on a shared volume and merge them in a second Job whose exit code is "
               "the test's (docs/distributed.md)",
               "headroom k8s"};
  std::string file, image, out, name, ns, start_at = "+5m", calibrate, storage_class, storage_size = "1Gi";
  int parallelism = 0;
  double per_core = 0;
  std::vector<std::string> env;
  app.add_option("scenario", file, "the scenario file (.yaml); its data files go into the ConfigMap too")->required();
  AddCount(app, "-n,--parallelism", parallelism, "generator pods (shards)", 1, scenario::kMaxShards)->required();
  app.add_option("--image", image, "a headroom image (the repository's Dockerfile builds one)")->required();
  app.add_option("-o,--out", out, "write DIR/headroom-k8s.yaml")->required();
  app.add_option("--name", name, "prefix of the objects' names (default: from the file name)");
  app.add_option("--namespace", ns, "namespace of the objects (default: kubectl's current)");
  app.add_option("--start-at", start_at,
                 "when every shard starts (default +5m from now): apply before then, or edit the ConfigMap's start-at");
  app.add_option("--per-core-rps", per_core, "requests per second one generator core sustains (sizes the pods)");
  app.add_option("--calibrate", calibrate,
                 "a results.json of a run on the generators' kind of machine: per-core throughput from it");
  app.add_option("--storage-class", storage_class, "storage class of the ReadWriteMany results volume");
  app.add_option("--storage-size", storage_size, "size of the results volume (default 1Gi)");
  app.add_option("-e,--env", env, "NAME=VALUE for ${NAME} in the scenario, passed to every shard (repeatable)");
  if (auto rc = ParseArgs(app, argc, argv, "k8s")) return *rc;
  if (!ApplyEnv(env, "k8s")) return 2;
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "headroom k8s: %s\n", message.c_str());
    return 2;
  };
  auto sc = scenario::LoadScenario(file);
  if (!sc) {
    std::fprintf(stderr, "%s\n", sc.error().message.c_str());
    return 2;
  }
  if (app.count("--per-core-rps") > 0 && app.count("--calibrate") > 0) return fail("give --per-core-rps or --calibrate, not both");
  if (app.count("--per-core-rps") > 0 && !(per_core > 0)) return fail("--per-core-rps must be positive");
  if (!calibrate.empty()) {
    auto run = report::ReadResultsFile(calibrate);
    if (!run) return fail(run.error().message);
    auto measured = plan::PerCoreRps(run->overall.requests_total, run->generator.cpu_user_s + run->generator.cpu_system_s);
    if (!measured) return fail(calibrate + ": the run used no measurable CPU; calibrate with a longer run");
    per_core = *measured;
  }
  if (per_core <= 0) per_core = kDefaultPerCoreRps;
  auto at = ParseStartAtUs(start_at, WallNowUs());
  if (!at) return fail(at.error().message);
  if (name.empty()) {
    name = fs::path(file).stem().string();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
      return std::isalnum(c) ? char(std::tolower(c)) : '-';
    });
    name = name.substr(0, 40);
    while (!name.empty() && name.back() == '-') name.pop_back();
    while (!name.empty() && name.front() == '-') name.erase(0, 1);
  }
  auto files = Files(file, *sc);
  if (!files) return fail(files.error().message);
  plan::K8sSpec spec;
  spec.name = name;
  spec.namespace_name = ns;
  spec.image = image;
  spec.parallelism = parallelism;
  spec.scenario_path = files->front().path;
  spec.files = std::move(*files);
  spec.start_at_us = *at;
  spec.needs_sync = std::any_of(sc->phases.begin(), sc->phases.end(),
                                [](const scenario::Phase& p) { return p.kind == scenario::PhaseKind::kStress; });
  spec.peak_rps = PeakRps(*sc);
  spec.per_core_rps = per_core;
  spec.deadline_s = (*at - WallNowUs()) / 1'000'000 + PlannedS(*sc) + 600;
  spec.storage_class = storage_class;
  spec.storage_size = storage_size;
  for (const std::string& e : env) {
    spec.run_args.push_back("-e");
    spec.run_args.push_back(e);
  }
  // Every shard must be able to take its share (connections, data rows): checked here, not in the pods.
  for (int i = 0; i < parallelism; ++i) {
    scenario::Scenario copy = *sc;
    if (auto s = scenario::ShardScenario(copy, {i, parallelism}); !s) {
      std::fprintf(stderr, "%s\n", s.error().message.c_str());
      return 2;
    }
  }
  auto yaml = plan::K8sManifests(spec);
  if (!yaml) return fail(yaml.error().message);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return fail("cannot create " + out + ": " + ec.message());
  const std::string path = out + "/headroom-k8s.yaml";
  if (auto s = report::WriteFileAtomic(path, *yaml); !s) return fail(s.error().message);
  const int cores = plan::K8sCoresPerPod(spec.peak_rps, parallelism, per_core);
  std::printf("%s: %d generator pods of %d core%s each (peak %s over %s per core), start at %s\n", path.c_str(),
              parallelism, cores, cores == 1 ? "" : "s", FormatCount(spec.peak_rps).c_str(),
              FormatCount(per_core).c_str(), FormatUtc(*at).c_str());
  std::printf("apply it before then: kubectl apply -f %s; the verdict: kubectl logs job/%s-merge\n", path.c_str(),
              name.c_str());
  return 0;
}

}  // namespace headroom::cli
