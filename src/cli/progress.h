// Progress of a run on stderr: a live line redrawn every second on a terminal; a compact line
// every 10 s otherwise (CI logs, `| tee`); nothing with --quiet. Notices are always printed.
#pragma once
#include <string>

#include "exec/exec.h"

namespace headroom::cli {

class StderrProgress final : public exec::Progress {
 public:
  explicit StderrProgress(bool quiet);
  void OnSecond(const std::string& label, double total_s, const report::SecondRow& row) override;
  void OnRunEnd() override;
  void OnNotice(const std::string& text) override;

 private:
  bool quiet_;
  bool tty_;
  bool line_open_ = false;  // a live line is on screen
  int64_t seconds_ = 0;     // seconds seen over the whole run (for the every-10-s line)
  // Figures since the last compact line.
  int64_t completed_ = 0, errors_ = 0;
  double span_s_ = 0;
  int64_t p95_us_ = 0;
};

}  // namespace headroom::cli
