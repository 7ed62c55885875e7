// Rendering and writing the plan's files. RenderPlan is pure; WritePlan only creates directories
// and (over)writes the files RenderPlan names.
#include <filesystem>
#include <fstream>

#include "plan/planner_internal.h"

namespace headroom::plan {

std::map<std::string, std::string> RenderPlan(const PlanOutput& plan) {
  std::map<std::string, std::string> files;
  files["plan.md"] = MarkdownPlan(plan);
  files["plan.json"] = JsonPlan(plan);
  for (const PhaseResult& ph : plan.phases) {
    std::string dir = "artifacts/" + PhaseDir(ph.multiplier) + "/";
    files[ph.gate_file] = GateYaml(plan.input, ph);
    files[ph.stress_file] = StressYaml(plan.input, ph);
    if (!ph.chaos_file.empty()) files[ph.chaos_file] = ChaosYaml(plan.input, ph);
    files[dir + "prometheus-rules.yaml"] = RulesYaml(plan.input, ph);
    if (!ph.autoscalers.empty()) files[dir + "hpa.yaml"] = HpaYaml(plan.input, ph);
  }
  return files;
}

Status WritePlan(const PlanOutput& plan, const std::string& out_dir) {
  namespace fs = std::filesystem;
  for (const auto& [rel, text] : RenderPlan(plan)) {
    fs::path path = fs::path(out_dir) / rel;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return Fail(path.parent_path().string() + ": cannot create directory: " + ec.message());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Fail(path.string() + ": cannot write");
    out << text;
    if (!out.flush()) return Fail(path.string() + ": write failed");
  }
  return Ok();
}

}  // namespace headroom::plan
