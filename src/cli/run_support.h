// Shared pieces of the commands that run load: turning engine statistics into the results model,
// evaluating SLOs, live progress on a terminal, and the exit code policy.
#pragma once
#include <string>
#include <vector>

#include "engine/engine.h"
#include "report/results.h"
#include "slo/slo.h"

namespace headroom::cli {

// Collects per-second rows (and prints live progress when stderr is a terminal).
class SeriesCollector {
 public:
  // Rows hold figures only: the seconds' histograms are streamed to results.hlog by the executor.
  SeriesCollector(std::string label, double total_s, bool live);
  void OnSecond(const engine::SecondStats& s);
  void Finish();  // ends the live line
  const std::vector<report::SecondRow>& rows() const { return rows_; }
  std::vector<report::SecondRow> TakeRows() { return std::move(rows_); }

 private:
  std::string label_;
  double total_s_;
  bool live_;
  bool printed_ = false;
  std::vector<report::SecondRow> rows_;
};

// Fills a results section from engine counters and histograms.
void FillSection(report::Section& section, const engine::Counters& c, const Histogram& response_us,
                 const Histogram* service_us, double elapsed_s);

}  // namespace headroom::cli
