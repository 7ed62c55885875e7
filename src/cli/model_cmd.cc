// headroom model usl|queue: the capacity models on their own.
//   headroom model usl --csv FILE [--json]         fit the USL to concurrency,throughput rows
//   headroom model usl --results FILE [--json]     fit it to a results.json stress curve
//   headroom model queue --servers C --arrival-rate L --service-time S [--json]
// Queue inputs are plain numbers in any consistent time unit, or values with units ("50/s",
// "20ms"), which are converted to seconds.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/units.h"
#include "model/model.h"

namespace headroom::cli {
namespace {

using nlohmann::ordered_json;

int Usage(const std::string& message) {
  std::fprintf(stderr, "headroom model: %s\n", message.c_str());
  return 2;
}

std::optional<double> PlainNumber(const std::string& text) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) return {};
  return v;
}

ordered_json OptionalJson(const std::optional<double>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

int RunUsl(const std::string& csv, const std::string& results, bool as_json) {
  if (csv.empty() == results.empty()) return Usage("usl: give exactly one of --csv FILE or --results FILE");
  std::vector<model::UslPoint> points;
  std::string source;
  if (!csv.empty()) {
    auto read = model::ReadUslCsv(csv);
    if (!read) return Usage(read.error().message);
    points = std::move(*read);
    source = csv;
  } else {
    auto summary = model::ReadResultsSummary(results);
    if (!summary) return Usage(summary.error().message);
    if (!summary->warning.empty()) std::fprintf(stderr, "headroom model: warning: %s\n", summary->warning.c_str());
    points = model::CurveToUslPoints(summary->curve);
    source = results + " (phases[].stress.curve: rate_rps -> achieved_rps)";
  }
  auto fit = model::FitUsl(points);
  if (!fit) return Usage(fit.error().message);
  if (as_json) {
    ordered_json out;
    out["sigma"] = fit->sigma;
    out["kappa"] = fit->kappa;
    out["lambda"] = fit->lambda;
    out["peak_concurrency"] = OptionalJson(fit->peak_concurrency);
    out["peak_throughput"] = OptionalJson(fit->peak_throughput);
    out["r2"] = fit->r2;
    out["bound"] = std::string(model::UslBoundName(fit->bound));
    out["points"] = points.size();
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("USL fit of %zu points from %s\n", points.size(), source.c_str());
  std::printf("  sigma (contention)  %.6g\n  kappa (coherency)   %.6g\n  lambda              %.6g\n",
              fit->sigma, fit->kappa, fit->lambda);
  if (fit->peak_concurrency) {
    std::printf("  peak concurrency    %.1f  (sqrt((1 - sigma) / kappa))\n", *fit->peak_concurrency);
    std::printf("  peak throughput     %.1f\n", *fit->peak_throughput);
  } else if (fit->peak_throughput) {
    std::printf("  no peak (kappa = 0); throughput approaches lambda / sigma = %.1f\n",
                *fit->peak_throughput);
  } else {
    std::printf("  no peak: scaling is linear over the measured range\n");
  }
  std::printf("  R^2                 %.4f\n  scaling is          %s-bound\n", fit->r2,
              std::string(model::UslBoundName(fit->bound)).c_str());
  return 0;
}

// Converts a queue argument: a plain number stays as is; "20ms" / "50/s" become seconds.
Result<double> QueueValue(const std::string& text, bool is_rate, bool& had_unit) {
  if (auto v = PlainNumber(text)) return *v;
  had_unit = true;
  if (is_rate) return ParseRatePerSec(text);
  auto ns = ParseDurationNs(text);
  if (!ns) return std::unexpected(ns.error());
  return static_cast<double>(*ns) / 1e9;
}

int RunQueue(int servers, const std::string& rate_text, const std::string& service_text,
             bool as_json) {
  bool rate_unit = false, service_unit = false;
  auto rate = QueueValue(rate_text, true, rate_unit);
  if (!rate) return Usage("queue: --arrival-rate: " + rate.error().message);
  auto service = QueueValue(service_text, false, service_unit);
  if (!service) return Usage("queue: --service-time: " + service.error().message);
  if (rate_unit != service_unit) {
    return Usage("queue: give both --arrival-rate and --service-time with units (50/s, 20ms) or "
                 "both as plain numbers in the same time unit");
  }
  auto r = model::SolveMmc({servers, *rate, *service});
  if (!r) return Usage(r.error().message);
  if (as_json) {
    ordered_json out;
    out["utilization"] = r->utilization;
    out["wait_probability"] = r->wait_probability;
    out["wait_mean"] = r->wait_mean;
    out["response_mean"] = r->response_mean;
    out["response_p95"] = r->response_p95;
    out["response_p99"] = r->response_p99;
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  const char* unit = rate_unit ? " s" : "";
  std::printf("M/M/%d queue, offered load %.4g Erlangs\n", servers, *rate * *service);
  std::printf("  utilization       %.4f\n  wait probability  %.4f (Erlang C)\n", r->utilization,
              r->wait_probability);
  std::printf("  wait mean         %.6g%s\n  response mean     %.6g%s\n", r->wait_mean, unit,
              r->response_mean, unit);
  std::printf("  response p95      %.6g%s\n  response p99      %.6g%s\n", r->response_p95, unit,
              r->response_p99, unit);
  return 0;
}

}  // namespace

int ModelCommand(int argc, char** argv) {
  CLI::App app{"Fit the Universal Scalability Law, or compute M/M/c (Erlang C) queueing figures",
               "headroom model"};
  app.require_subcommand(1);
  bool usl_json = false, queue_json = false;
  std::string csv, results;
  auto* usl = app.add_subcommand("usl", "fit X(N) = lambda*N / (1 + sigma*(N-1) + kappa*N*(N-1))");
  usl->add_option("--csv", csv, "CSV of concurrency,throughput rows (a header line is allowed)");
  usl->add_option("--results", results, "results.json with a stress curve (rate_rps -> achieved_rps)");
  usl->add_flag("--json", usl_json, "print {sigma,kappa,lambda,peak_concurrency,peak_throughput,r2}");

  int servers = 0;
  std::string rate_text, service_text;
  auto* queue = app.add_subcommand("queue", "M/M/c queue: waiting, mean and percentile response");
  queue->add_option("--servers", servers, "number of servers c (>= 1)")->required();
  queue->add_option("--arrival-rate", rate_text, "arrivals per time unit, or with a unit: 50/s")
      ->required();
  queue->add_option("--service-time", service_text, "mean service time, or with a unit: 20ms")
      ->required();
  queue->add_flag("--json", queue_json, "print the figures as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    return Usage(what + " (run 'headroom model --help')");
  }
  if (usl->parsed()) return RunUsl(csv, results, usl_json);
  return RunQueue(servers, rate_text, service_text, queue_json);
}

}  // namespace headroom::cli
