// DIR/report.html from DIR/results.json, DIR/tiers.jsonl and a plan folder's plan.json: the files a
// run (or `headroom plan`) left, so `headroom report` and the end of a run draw the same page.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "exec/exec.h"
#include "explain/explain.h"
#include "report/html.h"

namespace headroom::exec {
namespace {

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return Fail("cannot read " + path);
  return s.str();
}

}  // namespace

Result<std::string> WriteHtmlReport(const std::string& dir, const std::string& plan_dir) {
  const std::string results_path = dir + "/results.json";
  auto text = ReadText(results_path);
  if (!text) {
    return Fail(std::filesystem::is_directory(dir) ? results_path + ": no results.json in this folder (a run's --out folder)"
                                                   : dir + ": not a folder");
  }
  auto results = report::ParseResultsForReport(*text);
  if (!results) return Fail(results_path + ": not JSON");
  text->clear();
  text->shrink_to_fit();
  report::ReportInputs inputs;
  if (results->is_object() && results->contains("tiers_series") && (*results)["tiers_series"].is_string()) {
    // Only the file name results.json gives, in its own folder.
    const std::string name = std::filesystem::path((*results)["tiers_series"].get<std::string>()).filename().string();
    if (auto t = ReadText(dir + "/" + name)) inputs.tiers_jsonl = std::move(*t);
  }
  if (auto e = explain::Explain(*results); e && e->tiers_watched > 0) inputs.explain = explain::ToJson(*e);
  if (!plan_dir.empty()) {
    const std::string plan_path = std::filesystem::is_directory(plan_dir) ? plan_dir + "/plan.json" : plan_dir;
    auto plan_text = ReadText(plan_path);
    if (!plan_text) return Fail("--plan: " + plan_text.error().message + " (a folder written by headroom plan --out)");
    nlohmann::json plan = nlohmann::json::parse(*plan_text, nullptr, false);
    if (!plan.is_object() || !plan.contains("schema") || !plan["schema"].is_string() ||
        !plan["schema"].get<std::string>().starts_with("headroom.plan/")) {
      return Fail("--plan: " + plan_path + " is not a headroom plan.json");
    }
    inputs.plan = std::move(plan);
    inputs.plan_source = std::filesystem::path(plan_path).parent_path().filename().string() + "/plan.json";
  }
  auto data = report::ReportData(*results, inputs);
  if (!data) return Fail(results_path + ": " + data.error().message);
  const std::string out = dir + "/report.html";
  if (auto s = report::WriteFileAtomic(out, report::HtmlReport(*data)); !s) return std::unexpected(s.error());
  return out;
}

}  // namespace headroom::exec
