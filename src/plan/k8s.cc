// Kubernetes manifests for a distributed test: the generators are an Indexed Job (one completion
// index per shard), the results go to a shared volume, and a second Job merges them.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/units.h"
#include "plan/plan.h"

namespace headroom::plan {
namespace {

// Results: /results/shards/shard-I (one per pod), /results/sync (stress steps), /results/merged.
constexpr const char* kResults = "/results";
constexpr const char* kScenarioMount = "/scenario";

bool IsDnsLabel(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  if (!std::isalnum(static_cast<unsigned char>(s.front())) || !std::isalnum(static_cast<unsigned char>(s.back()))) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

void Metadata(YAML::Emitter& y, const K8sSpec& spec, const std::string& name, const std::string& role) {
  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << name;
  if (!spec.namespace_name.empty()) y << YAML::Key << "namespace" << YAML::Value << spec.namespace_name;
  y << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "app.kubernetes.io/name" << YAML::Value << "headroom";
  y << YAML::Key << "headroom/test" << YAML::Value << spec.name;
  if (!role.empty()) y << YAML::Key << "headroom/role" << YAML::Value << role;
  y << YAML::EndMap << YAML::EndMap;
}

void ConfigMap(YAML::Emitter& y, const K8sSpec& spec) {
  y << YAML::BeginDoc << YAML::BeginMap;
  y << YAML::Key << "apiVersion" << YAML::Value << "v1";
  y << YAML::Key << "kind" << YAML::Value << "ConfigMap";
  Metadata(y, spec, spec.name + "-scenario", "");
  y << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  // One start for every shard; edit it (kubectl edit configmap) to start later.
  y << YAML::Key << "start-at" << YAML::Value << YAML::DoubleQuoted << FormatUtc(spec.start_at_us);
  for (const K8sFile& f : spec.files) y << YAML::Key << f.key << YAML::Value << YAML::Literal << f.text;
  y << YAML::EndMap << YAML::EndMap;
}

void Claim(YAML::Emitter& y, const K8sSpec& spec) {
  y << YAML::BeginDoc << YAML::BeginMap;
  y << YAML::Key << "apiVersion" << YAML::Value << "v1";
  y << YAML::Key << "kind" << YAML::Value << "PersistentVolumeClaim";
  Metadata(y, spec, spec.name + "-results", "");
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "accessModes" << YAML::Value << YAML::Flow << YAML::BeginSeq << "ReadWriteMany" << YAML::EndSeq;
  if (!spec.storage_class.empty()) y << YAML::Key << "storageClassName" << YAML::Value << spec.storage_class;
  y << YAML::Key << "resources" << YAML::Value << YAML::BeginMap << YAML::Key << "requests" << YAML::Value
    << YAML::BeginMap << YAML::Key << "storage" << YAML::Value << spec.storage_size << YAML::EndMap << YAML::EndMap;
  y << YAML::EndMap << YAML::EndMap;
}

void Volumes(YAML::Emitter& y, const K8sSpec& spec, bool with_scenario) {
  y << YAML::Key << "volumes" << YAML::Value << YAML::BeginSeq;
  if (with_scenario) {
    y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "scenario";
    y << YAML::Key << "configMap" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << spec.name + "-scenario";
    y << YAML::Key << "items" << YAML::Value << YAML::BeginSeq;
    for (const K8sFile& f : spec.files) {
      y << YAML::BeginMap << YAML::Key << "key" << YAML::Value << f.key << YAML::Key << "path" << YAML::Value << f.path
        << YAML::EndMap;
    }
    y << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
  }
  y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "results";
  y << YAML::Key << "persistentVolumeClaim" << YAML::Value << YAML::BeginMap << YAML::Key << "claimName"
    << YAML::Value << spec.name + "-results" << YAML::EndMap << YAML::EndMap;
  y << YAML::EndSeq;
}

void Mounts(YAML::Emitter& y, bool with_scenario) {
  y << YAML::Key << "volumeMounts" << YAML::Value << YAML::BeginSeq;
  if (with_scenario) {
    y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "scenario" << YAML::Key << "mountPath" << YAML::Value
      << kScenarioMount << YAML::Key << "readOnly" << YAML::Value << true << YAML::EndMap;
  }
  y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "results" << YAML::Key << "mountPath" << YAML::Value
    << kResults << YAML::EndMap;
  y << YAML::EndSeq;
}

// The image runs as nobody; the shared volume must be writable by it.
void Security(YAML::Emitter& y) {
  y << YAML::Key << "securityContext" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "runAsNonRoot" << YAML::Value << true;
  y << YAML::Key << "runAsUser" << YAML::Value << 65534;
  y << YAML::Key << "fsGroup" << YAML::Value << 65534;
  y << YAML::EndMap;
}

void GeneratorJob(YAML::Emitter& y, const K8sSpec& spec, int cores) {
  const std::string n = std::to_string(spec.parallelism);
  y << YAML::BeginDoc << YAML::BeginMap;
  y << YAML::Key << "apiVersion" << YAML::Value << "batch/v1";
  y << YAML::Key << "kind" << YAML::Value << "Job";
  Metadata(y, spec, spec.name + "-shards", "generator");
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "completionMode" << YAML::Value << "Indexed";
  y << YAML::Key << "completions" << YAML::Value << spec.parallelism;
  y << YAML::Key << "parallelism" << YAML::Value << spec.parallelism;
  // A retried shard would start after --start-at and be refused: the merge names it missing instead.
  y << YAML::Key << "backoffLimit" << YAML::Value << 0;
  y << YAML::Key << "activeDeadlineSeconds" << YAML::Value << spec.deadline_s;
  y << YAML::Key << "template" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "labels" << YAML::Value
    << YAML::BeginMap << YAML::Key << "headroom/test" << YAML::Value << spec.name << YAML::Key << "headroom/role"
    << YAML::Value << "generator" << YAML::EndMap << YAML::EndMap;
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "restartPolicy" << YAML::Value << "Never";
  Security(y);
  // One generator per node where possible: shards on one node share its cores and its NIC.
  y << YAML::Key << "affinity" << YAML::Value << YAML::BeginMap << YAML::Key << "podAntiAffinity" << YAML::Value
    << YAML::BeginMap << YAML::Key << "preferredDuringSchedulingIgnoredDuringExecution" << YAML::Value
    << YAML::BeginSeq << YAML::BeginMap << YAML::Key << "weight" << YAML::Value << 100 << YAML::Key
    << "podAffinityTerm" << YAML::Value << YAML::BeginMap << YAML::Key << "topologyKey" << YAML::Value
    << "kubernetes.io/hostname" << YAML::Key << "labelSelector" << YAML::Value << YAML::BeginMap << YAML::Key
    << "matchLabels" << YAML::Value << YAML::BeginMap << YAML::Key << "headroom/test" << YAML::Value << spec.name
    << YAML::Key << "headroom/role" << YAML::Value << "generator" << YAML::EndMap << YAML::EndMap << YAML::EndMap
    << YAML::EndMap << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
  y << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << "headroom";
  y << YAML::Key << "image" << YAML::Value << spec.image;
  y << YAML::Key << "args" << YAML::Value << YAML::BeginSeq;
  y << "run" << std::string(kScenarioMount) + "/" + spec.scenario_path;
  y << "--shard" << "$(JOB_COMPLETION_INDEX)/" + n;
  y << "--start-at" << "$(START_AT)";
  y << "--out" << std::string(kResults) + "/shards/shard-$(JOB_COMPLETION_INDEX)";
  y << "--threads" << std::to_string(cores);
  if (spec.needs_sync) y << "--sync-dir" << std::string(kResults) + "/sync";
  for (const std::string& a : spec.run_args) y << a;
  y << "--quiet";
  y << YAML::EndSeq;
  y << YAML::Key << "env" << YAML::Value << YAML::BeginSeq;
  y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "JOB_COMPLETION_INDEX" << YAML::Key << "valueFrom"
    << YAML::Value << YAML::BeginMap << YAML::Key << "fieldRef" << YAML::Value << YAML::BeginMap << YAML::Key
    << "fieldPath" << YAML::Value << "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "START_AT" << YAML::Key << "valueFrom" << YAML::Value
    << YAML::BeginMap << YAML::Key << "configMapKeyRef" << YAML::Value << YAML::BeginMap << YAML::Key << "name"
    << YAML::Value << spec.name + "-scenario" << YAML::Key << "key" << YAML::Value << "start-at" << YAML::EndMap
    << YAML::EndMap << YAML::EndMap;
  y << YAML::EndSeq;
  const std::string cpu = std::to_string(cores);
  y << YAML::Key << "resources" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "requests" << YAML::Value << YAML::BeginMap << YAML::Key << "cpu" << YAML::Value
    << YAML::DoubleQuoted << cpu << YAML::Key << "memory" << YAML::Value << "512Mi" << YAML::EndMap;
  y << YAML::Key << "limits" << YAML::Value << YAML::BeginMap << YAML::Key << "cpu" << YAML::Value
    << YAML::DoubleQuoted << cpu << YAML::Key << "memory" << YAML::Value << "1Gi" << YAML::EndMap;
  y << YAML::EndMap;
  Mounts(y, true);
  y << YAML::EndMap << YAML::EndSeq;
  Volumes(y, spec, true);
  y << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap;
}

void MergeJob(YAML::Emitter& y, const K8sSpec& spec) {
  y << YAML::BeginDoc << YAML::BeginMap;
  y << YAML::Key << "apiVersion" << YAML::Value << "batch/v1";
  y << YAML::Key << "kind" << YAML::Value << "Job";
  Metadata(y, spec, spec.name + "-merge", "merge");
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "backoffLimit" << YAML::Value << 0;
  y << YAML::Key << "activeDeadlineSeconds" << YAML::Value << spec.deadline_s;
  y << YAML::Key << "template" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "restartPolicy" << YAML::Value << "Never";
  Security(y);
  y << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << "merge";
  y << YAML::Key << "image" << YAML::Value << spec.image;
  y << YAML::Key << "args" << YAML::Value << YAML::BeginSeq;
  // The wait ends before the Job's deadline, so that a missing shard is named rather than the pod killed.
  const int64_t wait_s = std::max<int64_t>(60, spec.deadline_s - 120);
  y << "merge" << std::string(kResults) + "/shards" << "--shards" << std::to_string(spec.parallelism) << "--wait"
    << std::to_string(wait_s) + "s" << "--out" << std::string(kResults) + "/merged";
  y << YAML::EndSeq;
  y << YAML::Key << "resources" << YAML::Value << YAML::BeginMap << YAML::Key << "requests" << YAML::Value
    << YAML::BeginMap << YAML::Key << "cpu" << YAML::Value << YAML::DoubleQuoted << "100m" << YAML::Key << "memory"
    << YAML::Value << "256Mi" << YAML::EndMap << YAML::EndMap;
  Mounts(y, false);
  y << YAML::EndMap << YAML::EndSeq;
  Volumes(y, spec, false);
  y << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap;
}

}  // namespace

int K8sCoresPerPod(double peak_rps, int parallelism, double per_core_rps) {
  if (parallelism < 1 || !(per_core_rps > 0) || !(peak_rps > 0)) return 1;
  return std::max(1, int(std::ceil(peak_rps / double(parallelism) / per_core_rps - 1e-9)));
}

std::optional<double> PerCoreRps(int64_t requests, double cpu_s) {
  if (!(cpu_s > 0) || requests <= 0) return std::nullopt;
  return double(requests) / cpu_s;
}

Result<std::string> K8sManifests(const K8sSpec& spec) {
  if (!IsDnsLabel(spec.name)) {
    return Fail("--name '" + spec.name + "': use lower-case letters, digits and '-', at most 40 characters");
  }
  if (spec.parallelism < 1) return Fail("--parallelism must be at least 1");
  if (spec.image.empty()) return Fail("--image is required");
  const int cores = K8sCoresPerPod(spec.peak_rps, spec.parallelism, spec.per_core_rps);
  YAML::Emitter y;
  ConfigMap(y, spec);
  Claim(y, spec);
  GeneratorJob(y, spec, cores);
  MergeJob(y, spec);
  if (!y.good()) return Fail("cannot write the manifests: " + y.GetLastError());
  return std::string(y.c_str()) + "\n";
}

}  // namespace headroom::plan
