// Distributed tests on one machine: N `headroom run --shard I/N` processes against the embedded
// target, merged with `headroom merge`, compared with one process at the full rate; the merge's
// refusals; stress phases whose steps the shards judge together through --sync-dir; the manifests
// of `headroom k8s`.
#include <yaml-cpp/yaml.h>

#include "e2e_util.h"
#include "core/histogram.h"

namespace {

using e2e::Proc;
using e2e::RunHeadroom;
using e2e::Slurp;
using e2e::TempDir;
using e2e::Url;
using json = nlohmann::json;
namespace fs = std::filesystem;

// Starts headroom without waiting; Wait() collects it.
struct Running {
  pid_t pid = -1;
  std::string out_path, err_path;
  Proc Wait() {
    int status = 0;
    waitpid(pid, &status, 0);
    Proc p;
    p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    p.out = Slurp(out_path);
    p.err = Slurp(err_path);
    return p;
  }
};

Running Spawn(const std::vector<std::string>& args, const std::string& log_prefix) {
  Running r;
  r.out_path = log_prefix + ".out";
  r.err_path = log_prefix + ".err";
  r.pid = fork();
  if (r.pid == 0) {
    int out = open(r.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(r.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    std::string bin = HEADROOM_BINARY;
    argv.push_back(bin.data());
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return r;
}

json Results(const std::string& dir) { return json::parse(Slurp(dir + "/results.json")); }

std::string WriteScenario(const std::string& dir, const std::string& target, const std::string& phases,
                          const std::string& slos = "[\"error_rate < 1%\"]") {
  fs::create_directories(dir);
  const std::string path = dir + "/scenario.yaml";
  std::ofstream(path) << "name: split\ntarget: " << target << "\nrequests: [{ name: home, path: / }]\nslos: " << slos
                      << "\nphases:\n" << phases;
  return path;
}

// Runs shards 0..n-1 of `scenario` at the same time, each into DIR/shard-I.
std::vector<Proc> RunShards(const std::string& scenario, int n, const std::string& dir,
                            const std::vector<std::string>& extra = {}) {
  // One start for all, as the machines of a real test would be given (Unix seconds, 2 s ahead).
  const std::string start = std::to_string(time(nullptr) + 2);
  std::vector<Running> running;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> args = {"run", scenario, "--shard", std::to_string(i) + "/" + std::to_string(n),
                                     "--start-at", start, "--threads", "1", "-q", "--out",
                                     dir + "/shard-" + std::to_string(i)};
    args.insert(args.end(), extra.begin(), extra.end());
    running.push_back(Spawn(args, dir + "/log-" + std::to_string(i)));
  }
  std::vector<Proc> out;
  for (Running& r : running) out.push_back(r.Wait());
  return out;
}

headroom::Histogram Decode(const json& section) {
  return *headroom::Histogram::DecodeCompressedBase64(section["histograms"]["response_time_us"].get<std::string>());
}

TEST(ShardE2E, ShardsMergeToTheSameTestAsOneProcess) {
  auto server = e2e::Target();
  const std::string dir = TempDir("shard-split");
  const std::string scenario =
      WriteScenario(dir, Url(*server), "  - { name: steady, baseline: { rate: 1200/s, duration: 3s } }\n");
  Proc whole = RunHeadroom({"run", scenario, "--threads", "1", "-q", "--out", dir + "/whole"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  std::vector<Proc> shards = RunShards(scenario, 3, dir);
  for (const Proc& p : shards) ASSERT_EQ(p.exit_code, 0) << p.err;
  Proc merged = RunHeadroom({"merge", dir + "/shard-0", dir + "/shard-1", dir + "/shard-2", "--out", dir + "/merged"});
  ASSERT_EQ(merged.exit_code, 0) << merged.err << merged.out;
  EXPECT_NE(merged.out.find("merged 3 shards"), std::string::npos) << merged.out;

  const json w = Results(dir + "/whole"), m = Results(dir + "/merged");
  // Uniform arrivals offset by a third of an interval per shard: the union is the same 3600
  // arrivals the single process sends.
  EXPECT_EQ(m["requests"]["total"], w["requests"]["total"]);
  EXPECT_EQ(m["requests"]["total"].get<int64_t>(), 3600);
  EXPECT_EQ(m["requests"]["errors"], 0);
  int64_t intended = 0;
  for (const json& row : m["series"]) intended += row["intended"].get<int64_t>();
  EXPECT_EQ(intended, 3600);
  EXPECT_NEAR(m["throughput"]["achieved_rps"].get<double>(), w["throughput"]["achieved_rps"].get<double>(), 120);
  EXPECT_NEAR(m["throughput"]["requested_rps"].get<double>(), 1200, 1e-6);
  // Latency within the noise of two runs on a shared loopback (generous: a factor of 3 at the median).
  const double wp50 = w["latency"]["response_time_us"]["p50"].get<double>();
  const double mp50 = m["latency"]["response_time_us"]["p50"].get<double>();
  EXPECT_GT(mp50, wp50 / 3);
  EXPECT_LT(mp50, wp50 * 3);
  // Exact: the merged histogram is the bucket-by-bucket sum of the shards'.
  headroom::Histogram sum;
  for (int i = 0; i < 3; ++i) {
    const json s = Results(dir + "/shard-" + std::to_string(i));
    EXPECT_EQ(s["shard"]["index"], i);
    EXPECT_EQ(s["shard"]["count"], 3);
    EXPECT_EQ(s["shard"]["scenario_hash"], m["merged"]["scenario_hash"]);
    EXPECT_EQ(s["requests"]["total"].get<int64_t>(), 1200);
    sum.Add(Decode(s));
  }
  EXPECT_EQ(Decode(m).EncodeCompressedBase64(), sum.EncodeCompressedBase64());
  EXPECT_EQ(m["latency"]["response_time_us"]["p99"].get<int64_t>(), sum.ValueAtPercentile(99));
  EXPECT_EQ(m["shard"], nullptr);
  EXPECT_EQ(m["merged"]["shards"], 3);
  // Seconds line up on the common start: about 3 rows, each the sum of the shards' same second.
  EXPECT_GE(m["series"].size(), 3u);
  EXPECT_LE(m["series"].size(), 5u);
  EXPECT_TRUE(fs::exists(dir + "/merged/report.html"));
  EXPECT_TRUE(fs::exists(dir + "/merged/junit.xml"));
  EXPECT_TRUE(fs::exists(dir + "/merged/summary.md"));
  EXPECT_TRUE(fs::exists(dir + "/merged/results.hlog"));
}

TEST(ShardE2E, MergeRefusesMixedMissingDuplicatedAndFailedShards) {
  auto server = e2e::Target();
  const std::string dir = TempDir("shard-refuse");
  const std::string a = WriteScenario(dir + "/a", Url(*server), "  - { name: s, baseline: { rate: 200/s, duration: 1s } }\n");
  const std::string b = WriteScenario(dir + "/b", Url(*server), "  - { name: s, baseline: { rate: 300/s, duration: 1s } }\n");
  std::vector<Proc> shards = RunShards(a, 2, dir + "/a");
  for (const Proc& p : shards) ASSERT_EQ(p.exit_code, 0) << p.err;
  std::vector<Proc> other = RunShards(b, 2, dir + "/b");
  for (const Proc& p : other) ASSERT_EQ(p.exit_code, 0) << p.err;
  auto refused = [&](const std::vector<std::string>& args, const std::string& text) {
    Proc p = RunHeadroom(args);
    EXPECT_EQ(p.exit_code, 2) << p.err;
    EXPECT_EQ(e2e::Lines(p.err), 1) << p.err;
    EXPECT_NE(p.err.find(text), std::string::npos) << p.err;
    EXPECT_FALSE(fs::exists(dir + "/out/results.json"));
  };
  refused({"merge", dir + "/a/shard-0", dir + "/b/shard-1", "--out", dir + "/out"}, "ran different scenarios");
  refused({"merge", dir + "/a/shard-0", "--out", dir + "/out"}, "shard 1 of 2 missing");
  refused({"merge", dir + "/a/shard-0", dir + "/a/shard-0", "--out", dir + "/out"}, "are the same shard");
  fs::create_directories(dir + "/empty");
  refused({"merge", dir + "/empty", "--out", dir + "/out"}, "no results.json");
  // A failed shard: its pod never wrote results. A folder of shard folders names the one missing.
  fs::create_directories(dir + "/pods/shards");
  fs::copy(dir + "/a/shard-0", dir + "/pods/shards/shard-0", fs::copy_options::recursive);
  fs::create_directories(dir + "/pods/shards/shard-1");
  refused({"merge", dir + "/pods/shards", "--out", dir + "/out"}, "shard 1 of 2 missing");
  refused({"merge", dir + "/pods/shards", "--shards", "3", "--out", dir + "/out"}, "--shards 3");
  // The two complete sets merge.
  Proc ok = RunHeadroom({"merge", dir + "/a", "--out", dir + "/out-a", "-q"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(Results(dir + "/out-a")["requests"]["total"].get<int64_t>(), 200);
}

TEST(ShardE2E, MisusedFlagsAreOneLineAndExitTwo) {
  const std::string dir = TempDir("shard-flags");
  const std::string scenario =
      WriteScenario(dir, "http://127.0.0.1:9/", "  - { name: s, baseline: { rate: 10/s, duration: 1s } }\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"run", scenario, "--shard", "3/2", "--start-at", "+1s"}, "--shard '3/2'"},
      {{"run", scenario, "--shard", "0/0", "--start-at", "+1s"}, "--shard '0/0'"},
      {{"run", scenario, "--shard", "x", "--start-at", "+1s"}, "--shard 'x'"},
      {{"run", scenario, "--shard", "0/2", "--start-at", "garbage"}, "--start-at 'garbage'"},
      {{"run", scenario, "--shard", "0/2", "--start-at", "2001-01-01T00:00:00Z"}, "that time passed"},
      {{"run", scenario, "--shard", "0/2"}, "--shard needs --start-at"},
      {{"run", scenario, "--start-at", "+1s"}, "apply with --shard"},
      {{"run", "http://127.0.0.1:9/", "--shard", "0/2", "--start-at", "+1s"}, "needs a scenario file"},
      {{"merge", "--out", dir + "/o"}, "dirs"},
      {{"merge", dir + "/nope", "--out", dir + "/o"}, "not a folder"},
      {{"mrege"}, "did you mean 'merge'"},
  };
  for (const auto& [args, text] : cases) {
    Proc p = RunHeadroom(args);
    EXPECT_EQ(p.exit_code, 2) << args[1] << ": " << p.err;
    EXPECT_EQ(e2e::Lines(p.err), 1) << p.err;
    EXPECT_NE(p.err.find(text), std::string::npos) << p.err;
  }
  Proc help = RunHeadroom({"--help"});
  EXPECT_NE(help.out.find("merge DIR..."), std::string::npos);
  EXPECT_NE(help.out.find("k8s SCENARIO"), std::string::npos);
}

TEST(ShardE2E, StressStepsAreJudgedOnEveryShardsFigures) {
  auto server = e2e::Target();
  const std::string dir = TempDir("shard-stress");
  const std::string scenario = WriteScenario(
      dir, Url(*server),
      "  - { name: climb, stress: { from: 400/s, ceiling: 800/s, step: 400/s, step_duration: 1s, search: steps } }\n",
      "[\"p99 < 5s\", \"rps >= 300\"]");
  // Without a shared folder the shards could not agree on the next step.
  Proc refused = RunHeadroom({"run", scenario, "--shard", "0/2", "--start-at", "+1s"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--sync-dir"), std::string::npos) << refused.err;
  std::vector<Proc> shards = RunShards(scenario, 2, dir, {"--sync-dir", dir + "/sync"});
  for (const Proc& p : shards) ASSERT_EQ(p.exit_code, 0) << p.err;
  const json s0 = Results(dir + "/shard-0"), s1 = Results(dir + "/shard-1");
  const json& c0 = s0["phases"][0]["stress"]["curve"];
  const json& c1 = s1["phases"][0]["stress"]["curve"];
  ASSERT_EQ(c0.size(), 2u);
  ASSERT_EQ(c1.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    // Each shard ran half the rate, and "rps >= 300" held on the merged figures (200/s + 200/s).
    EXPECT_DOUBLE_EQ(c0[k]["rate_rps"].get<double>(), 200.0 * double(k + 1));
    EXPECT_EQ(c0[k]["pass"], c1[k]["pass"]);
    EXPECT_TRUE(c0[k]["pass"].get<bool>()) << c0[k].dump();
  }
  Proc merged = RunHeadroom({"merge", dir + "/shard-0", dir + "/shard-1", "--out", dir + "/merged", "-q"});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  const json m = Results(dir + "/merged");
  const json& curve = m["phases"][0]["stress"]["curve"];
  ASSERT_EQ(curve.size(), 2u);
  EXPECT_DOUBLE_EQ(curve[0]["rate_rps"].get<double>(), 400);
  EXPECT_DOUBLE_EQ(curve[1]["rate_rps"].get<double>(), 800);
  EXPECT_EQ(curve[1]["requests"]["total"].get<int64_t>(),
            c0[1]["requests"]["total"].get<int64_t>() + c1[1]["requests"]["total"].get<int64_t>());
  EXPECT_DOUBLE_EQ(m["phases"][0]["stress"]["capacity_rps"].get<double>(), 800);
}

TEST(ShardE2E, K8sManifestsAreIndexedJobsWhoseScenarioValidates) {
  const std::string dir = TempDir("shard-k8s");
  fs::create_directories(dir + "/data");
  std::ofstream(dir + "/data/users.csv") << "name\na\nb\nc\n";
  const std::string scenario = dir + "/checkout.yaml";
  std::ofstream(scenario) << "name: checkout\ntarget: http://checkout.internal:8080\n"
                             "data: { users: { file: data/users.csv } }\n"
                             "requests: [{ name: home, path: '/u/{{ users.name }}' }]\n"
                             "slos: [\"p99 < 300ms\"]\n"
                             "phases:\n  - { name: steady, baseline: { rate: 1200/s, duration: 60s } }\n";
  Proc k = RunHeadroom({"k8s", scenario, "--parallelism", "3", "--image", "registry.example/headroom:1", "--out",
                        dir + "/k8s", "--per-core-rps", "250"});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  std::vector<YAML::Node> docs = YAML::LoadAllFromFile(dir + "/k8s/headroom-k8s.yaml");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "ConfigMap");
  EXPECT_EQ(docs[1]["kind"].as<std::string>(), "PersistentVolumeClaim");
  EXPECT_EQ(docs[1]["spec"]["accessModes"][0].as<std::string>(), "ReadWriteMany");
  const YAML::Node job = docs[2];
  EXPECT_EQ(job["kind"].as<std::string>(), "Job");
  EXPECT_EQ(job["apiVersion"].as<std::string>(), "batch/v1");
  EXPECT_EQ(job["spec"]["completionMode"].as<std::string>(), "Indexed");
  EXPECT_EQ(job["spec"]["completions"].as<int>(), 3);
  EXPECT_EQ(job["spec"]["parallelism"].as<int>(), 3);
  const YAML::Node pod = job["spec"]["template"]["spec"];
  EXPECT_EQ(pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
               ["topologyKey"].as<std::string>(),
            "kubernetes.io/hostname");
  const YAML::Node c = pod["containers"][0];
  EXPECT_EQ(c["image"].as<std::string>(), "registry.example/headroom:1");
  // 1200/s over 3 pods at 250/s per core: 2 cores each.
  EXPECT_EQ(c["resources"]["requests"]["cpu"].as<std::string>(), "2");
  std::vector<std::string> args = c["args"].as<std::vector<std::string>>();
  std::map<std::string, std::string> env_sources;
  for (const YAML::Node& e : c["env"]) env_sources[e["name"].as<std::string>()] = YAML::Dump(e["valueFrom"]);
  EXPECT_NE(env_sources["JOB_COMPLETION_INDEX"].find("job-completion-index"), std::string::npos);
  EXPECT_NE(env_sources["START_AT"].find("start-at"), std::string::npos);
  // The pod's command, as the kubelet expands it for pod 1, is accepted by headroom itself: the
  // ConfigMap's files laid out as mounted, the scenario validated, and run's flags parsed.
  const YAML::Node data = docs[0]["data"];
  std::map<std::string, std::string> mounted;
  for (const YAML::Node& v : pod["volumes"]) {
    if (!v["configMap"]) {
      EXPECT_EQ(v["persistentVolumeClaim"]["claimName"].as<std::string>(), docs[1]["metadata"]["name"].as<std::string>());
      continue;
    }
    EXPECT_EQ(v["configMap"]["name"].as<std::string>(), docs[0]["metadata"]["name"].as<std::string>());
    for (const YAML::Node& item : v["configMap"]["items"]) {
      const fs::path to = fs::path(dir) / "mounted" / item["path"].as<std::string>();
      fs::create_directories(to.parent_path());
      std::ofstream(to) << data[item["key"].as<std::string>()].as<std::string>();
    }
  }
  ASSERT_GE(args.size(), 2u);
  EXPECT_EQ(args[0], "run");
  ASSERT_EQ(args[1].rfind("/scenario/", 0), 0u);
  const std::string local = dir + "/mounted/" + args[1].substr(10);
  Proc v = RunHeadroom({"validate", local});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  // Pod 1's command as the kubelet expands it, run here: against the local target, started in a
  // second instead of at the ConfigMap's start-at, and 1 s long (--duration-scale).
  auto server = e2e::Target();
  const std::string results = dir + "/results";
  std::vector<std::string> expanded;
  for (std::string a : args) {
    for (auto [var, value] : std::vector<std::pair<std::string, std::string>>{
             {"$(JOB_COMPLETION_INDEX)", "1"}, {"$(START_AT)", "+1s"}, {"/results", results}}) {
      for (size_t at = a.find(var); at != std::string::npos; at = a.find(var, at + value.size())) {
        a.replace(at, var.size(), value);
      }
    }
    expanded.push_back(a);
  }
  expanded[1] = local;
  const auto shard = std::find(expanded.begin(), expanded.end(), "--shard");
  ASSERT_NE(shard, expanded.end());
  EXPECT_EQ(*(shard + 1), "1/3");
  std::vector<std::string> local_run = expanded;
  for (const char* extra : {"--target", "", "--duration-scale", "0.02"}) local_run.emplace_back(extra);
  local_run[local_run.size() - 3] = Url(*server);
  Proc ran = RunHeadroom(local_run);
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(Results(results + "/shards/shard-1")["shard"]["index"], 1);
  const YAML::Node merge = docs[3];
  EXPECT_EQ(merge["kind"].as<std::string>(), "Job");
  std::vector<std::string> margs = merge["spec"]["template"]["spec"]["containers"][0]["args"].as<std::vector<std::string>>();
  ASSERT_EQ(margs[0], "merge");
  for (std::string& a : margs) {
    if (a.rfind("/results", 0) == 0) a = results + a.substr(8);
  }
  const auto wait = std::find(margs.begin(), margs.end(), "--wait");
  ASSERT_NE(wait, margs.end());
  *(wait + 1) = "0s";
  // The merge step, run now: two of the three pods have not written anything, and it says which.
  Proc m = RunHeadroom(margs);
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.err.find("shards 0, 2 of 3 missing"), std::string::npos) << m.err;
  // A shard count the data cannot serve is refused before any manifest is written.
  Proc too_many = RunHeadroom({"k8s", scenario, "--parallelism", "4", "--image", "x", "--out", dir + "/k8s4"});
  EXPECT_EQ(too_many.exit_code, 2);
  EXPECT_NE(too_many.err.find("3 rows cannot be split over 4 shards"), std::string::npos) << too_many.err;
  EXPECT_FALSE(fs::exists(dir + "/k8s4/headroom-k8s.yaml"));
}

}  // namespace
