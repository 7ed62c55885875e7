// headroom simulate PLAN.yaml [--phase 10x] [--days N] [--event ...] [--set ...] [--variant ...] [--series csv,json] --out DIR
// Simulates one phase of the plan second by second (traffic x autoscalers x tiers) and writes
// DIR/series.csv, DIR/series.json and DIR/summary.json. Exit 0 when the SLOs held, 1 when broken, 2 bad input.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "plan/plan.h"
#include "sim/sim.h"

namespace headroom::cli {
namespace {

int PrintErrors(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) std::fprintf(stderr, "headroom simulate: %s\n", line.c_str());
  return 2;
}

std::optional<double> ParsePhase(std::string text) {
  if (!text.empty() && (text.back() == 'x' || text.back() == 'X')) text.pop_back();
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && v > 0) return v;
  } catch (...) {
  }
  return std::nullopt;
}

struct Variant {
  std::string name;
  std::vector<std::string> sets;
};

// "min8: app.min=8 app.startup=30s"
std::optional<Variant> ParseVariant(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  Variant v{text.substr(0, colon), {}};
  std::istringstream in(text.substr(colon + 1));
  for (std::string s; in >> s;) v.sets.push_back(s);
  if (v.sets.empty()) return std::nullopt;
  return v;
}

}  // namespace

int SimulateCommand(int argc, char** argv) {
  CLI::App app{"Simulate a plan phase second by second: traffic curve x autoscalers x tiers",
               "headroom simulate"};
  std::string plan_path, results_path, out_dir, phase_text, series_formats = "csv,json";
  std::vector<std::string> events, sets, variants;
  double days = 7, timeout_s = 30;
  bool quiet = false, no_advice = false;
  app.add_option("plan", plan_path, "plan file (YAML, see docs/plan.md and docs/simulate.md)")->required();
  app.add_option("--results", results_path, "results.json for tiers with 'capacity: results'");
  app.add_option("--phase", phase_text, "the plan phase to simulate, e.g. 10x (default: the first)");
  app.add_option("--days", days, "days to simulate (default 7, at most 366)");
  app.add_option("--event", events, "an event: 'NAME day D HH:MM Mx for DURATION [ramp DURATION]' (repeatable)");
  app.add_option("--set", sets, "a what-if: TIER.KEY=VALUE, e.g. app.hpa.target=65% (repeatable)");
  app.add_option("--variant", variants, "'NAME: SET SET ...' simulated beside the base and compared (repeatable)");
  app.add_option("--timeout", timeout_s, "seconds a request may wait before it fails (default 30)");
  app.add_option("--out", out_dir, "output directory for series.csv and summary.json")->required();
  app.add_option("--series", series_formats,
                 "per-second series to write: csv, json, csv,json (default) or none");
  app.add_flag("--no-advice", no_advice, "skip the minReplicas recommendation for events");
  app.add_flag("--quiet,-q", quiet, "print only the verdict line");
  if (auto code = ParseArgs(app, argc, argv, "simulate")) return *code;

  auto input = plan::LoadPlanFile(plan_path, results_path);
  if (!input) return PrintErrors(input.error().message);
  auto built = plan::BuildPlan(*input);
  if (!built) return PrintErrors(built.error().message);
  double multiplier = built->phases.empty() ? 1 : built->phases.front().multiplier;
  if (!phase_text.empty()) {
    auto m = ParsePhase(phase_text);
    if (!m) return PrintErrors("--phase '" + phase_text + "' is not a multiple like 10x");
    multiplier = *m;
  }
  auto config = sim::BuildSimConfig(*built, multiplier, days);
  if (!config) return PrintErrors(config.error().message);
  if (!(timeout_s > 0) || timeout_s > 3600) return PrintErrors("--timeout must be above 0 and at most 3600 s");
  config->timeout_s = timeout_s;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string origin = "--event " + std::to_string(i + 1);
    auto e = plan::ParseEvent(events[i], origin);
    if (!e) return PrintErrors(origin + ": " + e.error().message);
    config->traffic.events.push_back(*e);
  }
  for (const std::string& s : sets)
    if (auto st = sim::ApplySet(*config, s); !st) return PrintErrors(st.error().message);
  if (std::string problems = sim::CheckConfig(*config); !problems.empty()) return PrintErrors(problems);
  std::vector<std::pair<Variant, sim::SimConfig>> variant_configs;
  for (const std::string& text : variants) {
    auto v = ParseVariant(text);
    if (!v) return PrintErrors("--variant '" + text + "': expected 'NAME: TIER.KEY=VALUE ...'");
    sim::SimConfig c = *config;
    c.name += " [" + v->name + "]";
    for (const std::string& s : v->sets)
      if (auto st = sim::ApplySet(c, s); !st) return PrintErrors("--variant " + v->name + ": " + st.error().message);
    if (std::string problems = sim::CheckConfig(c); !problems.empty())
      return PrintErrors("--variant " + v->name + ": " + problems);
    variant_configs.emplace_back(*v, std::move(c));
  }

  bool want_csv = false, want_json = false;
  {
    std::istringstream in(series_formats);
    for (std::string f; std::getline(in, f, ',');) {
      if (f == "csv") want_csv = true;
      else if (f == "json") want_json = true;
      else if (f != "none" || series_formats != "none")
        return PrintErrors("--series '" + series_formats + "': expected csv, json, csv,json or none");
    }
  }

  std::error_code ec;
  while (out_dir.size() > 1 && out_dir.back() == '/') out_dir.pop_back();  // "sim/" -> "sim/series.csv"
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return PrintErrors(out_dir + ": cannot create (" + ec.message() + ")");
  // Both series are streamed a row at a time as the simulation produces them.
  std::unique_ptr<sim::CsvSeries> csv;
  std::unique_ptr<sim::JsonSeries> json_series;
  std::string written;
  if (want_csv) {
    auto f = sim::CsvSeries::Open(out_dir + "/series.csv", *config);
    if (!f) return PrintErrors(f.error().message);
    csv = std::move(*f);
    written += out_dir + "/series.csv, ";
  }
  if (want_json) {
    auto f = sim::JsonSeries::Open(out_dir + "/series.json", *config);
    if (!f) return PrintErrors(f.error().message);
    json_series = std::move(*f);
    written += out_dir + "/series.json, ";
  }
  sim::RowSink sink;
  if (csv || json_series)
    sink = [&](const sim::SecondRow& r) {
      if (csv) csv->Row(r);
      if (json_series) json_series->Row(r);
    };
  const sim::Summary summary = sim::Simulate(*config, sink);
  if (csv)
    if (auto st = csv->Close(); !st) return PrintErrors(st.error().message);
  if (json_series)
    if (auto st = json_series->Close(); !st) return PrintErrors(st.error().message);
  std::vector<sim::EventAdvice> advice;
  if (!no_advice) advice = sim::AdviseForEvents(*config);

  nlohmann::ordered_json json = nlohmann::ordered_json::parse(sim::SummaryJson(*config, summary, advice));
  std::string text = sim::SummaryText(*config, summary, advice);
  if (!variant_configs.empty()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    char buf[256];
    std::snprintf(buf, sizeof buf, "\n%-16s %9s %12s %9s %12s %s\n", "variant", "broken", "budget", "max p95",
                  "cost", "verdict");
    text += buf;
    auto row = [&](const std::string& name, const sim::Summary& s) {
      std::snprintf(buf, sizeof buf, "%-16s %6d min %11.1f%% %7.0fms %12.0f %s\n", name.c_str(),
                    s.minutes_slo_broken, s.budget_burned * 100, s.max_p95_s * 1e3, s.cost,
                    s.held ? "held" : "broken");
      text += buf;
    };
    row("base", summary);
    for (const auto& [v, c] : variant_configs) {
      const sim::Summary s = sim::Simulate(c, nullptr);
      row(v.name, s);
      nlohmann::ordered_json one = nlohmann::ordered_json::parse(sim::SummaryJson(c, s, {}));
      one["variant"] = v.name;
      one["sets"] = v.sets;
      list.push_back(one);
    }
    json["variants"] = list;
  }
  std::ofstream(out_dir + "/summary.json") << json.dump(2) << "\n";
  if (quiet) {
    std::printf("verdict: %s\n", summary.held ? "SLOs held (exit 0)" : "SLOs broken (exit 1)");
  } else {
    std::fputs(text.c_str(), stdout);
    std::printf("written: %s%s/summary.json\n", written.c_str(), out_dir.c_str());
  }
  return summary.held ? 0 : 1;
}

}  // namespace headroom::cli
