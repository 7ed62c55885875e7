#include "cli/progress.h"

#include <cmath>

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/units.h"

namespace headroom::cli {
namespace {

constexpr int64_t kLogEveryS = 10;

}  // namespace

StderrProgress::StderrProgress(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}

void StderrProgress::OnSecond(const std::string& label, double total_s, const report::SecondRow& r) {
  ++seconds_;
  if (quiet_) return;
  // The drain after a run's end (in-flight requests finishing) is not shown as time past its length.
  const long long at_s = std::min<long long>(r.second + 1, std::max<long long>(1, (long long)std::ceil(total_s)));
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s [%3llds/%.0fs] %8.0f req/s  p95 %-9s errors %lld", label.c_str(),
                 at_s, total_s, double(r.completed) / r.span_s,
                 FormatDurationUs(double(r.p95_us)).c_str(), (long long)r.errors);
    std::fflush(stderr);
    line_open_ = true;
    return;
  }
  completed_ += r.completed;
  errors_ += r.errors;
  span_s_ += r.span_s;
  p95_us_ = std::max(p95_us_, r.p95_us);
  if (seconds_ % kLogEveryS != 0) return;
  const int64_t total = completed_ + errors_;
  std::fprintf(stderr, "headroom: %llds elapsed, %s [%llds/%.0fs]: %.0f req/s, p95 %s (worst second), errors %lld (%.2f%%)\n",
               (long long)seconds_, label.c_str(), at_s, total_s,
               span_s_ > 0 ? double(completed_) / span_s_ : 0.0, FormatDurationUs(double(p95_us_)).c_str(),
               (long long)errors_, total ? 100.0 * double(errors_) / double(total) : 0.0);
  std::fflush(stderr);
  completed_ = errors_ = p95_us_ = 0;
  span_s_ = 0;
}

void StderrProgress::OnRunEnd() {
  if (line_open_) std::fprintf(stderr, "\r\033[K");
  line_open_ = false;
}

void StderrProgress::OnNotice(const std::string& text) {
  OnRunEnd();
  std::fprintf(stderr, "headroom: warning: %s\n", text.c_str());
  std::fflush(stderr);
}

}  // namespace headroom::cli
