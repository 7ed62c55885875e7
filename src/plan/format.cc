// Number formatting shared by plan.md, plan.json notes and artifacts. Deterministic: the same
// value always prints the same way, which the golden tests rely on.
#include <cmath>
#include <cstdio>
#include <string>

#include "core/units.h"
#include "plan/planner_internal.h"

namespace headroom::plan {

std::string Num(double v) {
  if (!std::isfinite(v)) return "n/a";
  double a = std::fabs(v);
  char buf[64];
  if (a >= 100 || a == std::floor(a)) {
    std::string whole = FormatCount(std::round(a));
    if (v < 0) whole.insert(0, 1, '-');
    return whole;
  }
  if (a >= 10) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  } else if (a >= 0.1) {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  std::string s = buf;
  if (s.find('.') != std::string::npos && s.find('e') == std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string Pct(double fraction) {
  double p = fraction * 100;
  char buf[32];
  if (std::fabs(p - std::round(p)) < 0.05 || std::fabs(p) >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f %%", p);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %%", p);
  }
  return buf;
}

std::string Money(const PlanInput& in, double amount) {
  return FormatCount(std::round(amount)) + " " + in.currency;
}

std::string CapacityBasis(const TierSpec& t) {
  if (t.added_by_remedy) return "catalogue";
  return t.capacity_measured ? "measured" : "declared";
}

std::string WriteCapacityBasis(const TierSpec& t) {
  if (t.added_by_remedy) return "catalogue";
  return t.write_capacity_source.rfind("measured", 0) == 0 ? "measured" : "declared";
}

std::string PointText(const MeasuredPoint& p) {
  std::string s = "phase " + p.phase;
  if (p.step >= 0) s += " step " + std::to_string(p.step + 1);
  return s + " at " + Num(p.achieved_rps) + " req/s";
}

std::string PhaseLabel(double multiplier) { return Num(multiplier) + "x"; }

std::string PhaseDir(double multiplier) { return PhaseLabel(multiplier); }

std::string DnsLabel(const std::string& name) {
  std::string out;
  for (unsigned char ch : name) {
    bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (alnum) {
      out += static_cast<char>(std::tolower(ch));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "tier" : out;
}

std::string PromName(const std::string& name) {
  std::string out;
  bool up = true;
  for (unsigned char ch : name) {
    bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (!alnum) {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(ch)) : static_cast<char>(ch);
    up = false;
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(0, "T");
  return out;
}

std::string ShellQuote(const std::string& word) {
  std::string out = "'";
  for (char ch : word) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::string_view TierKindName(TierKind kind) {
  switch (kind) {
    case TierKind::kApp: return "app";
    case TierKind::kCache: return "cache";
    case TierKind::kDatabase: return "database";
    case TierKind::kQueue: return "queue";
    case TierKind::kWorkers: return "workers";
    case TierKind::kCdn: return "cdn";
  }
  return "app";
}

std::string_view ResourceName(Resource resource) {
  switch (resource) {
    case Resource::kCpu: return "cpu";
    case Resource::kMemory: return "memory";
    case Resource::kIo: return "io";
    case Resource::kNetwork: return "network";
    case Resource::kConnections: return "connections";
    case Resource::kWrites: return "writes";
  }
  return "cpu";
}

}  // namespace headroom::plan
