// USL fit. The model is linear in lambda, so for any (sigma, kappa) the best lambda has a closed
// form; a log-spaced grid over (sigma, kappa) with that lambda gives a start point near the global
// minimum, and a bounded Levenberg-Marquardt polishes all three parameters together. The grid
// matters: the residual surface is long and flat along kappa, and a poor start stalls there.
#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "model/model.h"

namespace headroom::model {
namespace {

struct Params {
  double sigma = 0;
  double kappa = 0;
  double lambda = 0;
};

double Denominator(double sigma, double kappa, double n) {
  return 1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0);
}

double Predict(const Params& p, double n) { return p.lambda * n / Denominator(p.sigma, p.kappa, n); }

double SumSquares(std::span<const UslPoint> pts, const Params& p) {
  double sum = 0;
  for (const UslPoint& pt : pts) {
    double r = pt.throughput - Predict(p, pt.concurrency);
    sum += r * r;
  }
  return sum;
}

// Least-squares lambda for fixed sigma and kappa: X = lambda * g(N), g = N / D(N).
double BestLambda(std::span<const UslPoint> pts, double sigma, double kappa) {
  double num = 0, den = 0;
  for (const UslPoint& pt : pts) {
    double g = pt.concurrency / Denominator(sigma, kappa, pt.concurrency);
    num += pt.throughput * g;
    den += g * g;
  }
  return den > 0 ? num / den : 0;
}

std::vector<double> GridAxis(double smallest) {
  std::vector<double> axis = {0.0};
  for (double v = smallest; v <= 1.0; v *= 1.25) axis.push_back(v);
  return axis;
}

Params GridStart(std::span<const UslPoint> pts) {
  Params best{0, 0, BestLambda(pts, 0, 0)};
  double best_ss = SumSquares(pts, best);
  for (double s : GridAxis(1e-5)) {
    for (double k : GridAxis(1e-9)) {
      Params p{s, k, BestLambda(pts, s, k)};
      double ss = SumSquares(pts, p);
      if (ss < best_ss) best_ss = ss, best = p;
    }
  }
  return best;
}

// Solves the 3x3 system a*x = b by Gaussian elimination with partial pivoting.
bool Solve3(std::array<std::array<double, 3>, 3> a, std::array<double, 3> b,
            std::array<double, 3>& x) {
  for (int col = 0; col < 3; ++col) {
    int piv = col;
    for (int r = col + 1; r < 3; ++r)
      if (std::fabs(a[r][col]) > std::fabs(a[piv][col])) piv = r;
    if (std::fabs(a[piv][col]) < 1e-300) return false;
    std::swap(a[piv], a[col]);
    std::swap(b[piv], b[col]);
    for (int r = col + 1; r < 3; ++r) {
      double f = a[r][col] / a[col][col];
      for (int c = col; c < 3; ++c) a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  for (int r = 2; r >= 0; --r) {
    double v = b[r];
    for (int c = r + 1; c < 3; ++c) v -= a[r][c] * x[c];
    x[r] = v / a[r][r];
  }
  return true;
}

Params Clamp(Params p) {
  p.sigma = std::clamp(p.sigma, 0.0, 1.0);
  p.kappa = std::clamp(p.kappa, 0.0, 1.0);
  p.lambda = std::max(p.lambda, 1e-300);
  return p;
}

// One bounded Levenberg-Marquardt run (Marquardt's diagonal scaling copes with sigma ~1e-2 and
// kappa ~1e-4 living on very different scales). Steps leaving the box are projected back.
Params Polish(std::span<const UslPoint> pts, Params p) {
  double mu = 1e-3;
  double ss = SumSquares(pts, p);
  for (int iter = 0; iter < 500; ++iter) {
    std::array<std::array<double, 3>, 3> jtj{};
    std::array<double, 3> jtr{};
    for (const UslPoint& pt : pts) {
      double n = pt.concurrency;
      double d = Denominator(p.sigma, p.kappa, n);
      double pred = p.lambda * n / d;
      std::array<double, 3> j = {-p.lambda * n * (n - 1) / (d * d),
                                 -p.lambda * n * n * (n - 1) / (d * d), n / d};
      double r = pt.throughput - pred;
      for (int a = 0; a < 3; ++a) {
        jtr[a] += j[a] * r;
        for (int b = 0; b < 3; ++b) jtj[a][b] += j[a] * j[b];
      }
    }
    bool improved = false;
    for (int attempt = 0; attempt < 30 && !improved; ++attempt) {
      auto m = jtj;
      for (int a = 0; a < 3; ++a) m[a][a] += mu * std::max(jtj[a][a], 1e-300);
      std::array<double, 3> step{};
      if (!Solve3(m, jtr, step)) {
        mu *= 10;
        continue;
      }
      Params next = Clamp({p.sigma + step[0], p.kappa + step[1], p.lambda + step[2]});
      double next_ss = SumSquares(pts, next);
      if (next_ss < ss) {
        double gain = (ss - next_ss) / std::max(ss, 1e-300);
        p = next, ss = next_ss, improved = true;
        mu = std::max(mu / 10, 1e-12);
        if (gain < 1e-15) return p;
      } else {
        mu *= 10;
      }
    }
    if (!improved) break;
  }
  return p;
}

}  // namespace

double UslThroughput(const UslFit& fit, double concurrency) {
  return Predict({fit.sigma, fit.kappa, fit.lambda}, concurrency);
}

std::string_view UslBoundName(UslBound bound) {
  switch (bound) {
    case UslBound::kLinear: return "linear";
    case UslBound::kContention: return "contention";
    case UslBound::kCoherency: return "coherency";
  }
  return "linear";
}

Result<UslFit> FitUsl(std::span<const UslPoint> points) {
  std::vector<double> distinct;
  for (const UslPoint& pt : points) {
    if (!(pt.concurrency > 0) || !std::isfinite(pt.concurrency))
      return Fail("USL fit: concurrency must be > 0 (got " + std::to_string(pt.concurrency) + ")");
    if (!(pt.throughput >= 0) || !std::isfinite(pt.throughput))
      return Fail("USL fit: throughput must be >= 0 (got " + std::to_string(pt.throughput) + ")");
    if (std::find(distinct.begin(), distinct.end(), pt.concurrency) == distinct.end())
      distinct.push_back(pt.concurrency);
  }
  if (distinct.size() < 3)
    return Fail("USL fit: need at least 3 points with distinct concurrency, got " +
                std::to_string(distinct.size()));
  Params p = Polish(points, GridStart(points));

  UslFit fit;
  fit.sigma = p.sigma;
  fit.kappa = p.kappa;
  fit.lambda = p.lambda;
  double mean = 0;
  for (const UslPoint& pt : points) mean += pt.throughput;
  mean /= static_cast<double>(points.size());
  double ss_tot = 0;
  for (const UslPoint& pt : points) ss_tot += (pt.throughput - mean) * (pt.throughput - mean);
  double ss_res = SumSquares(points, p);
  fit.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
  for (const UslPoint& pt : points)
    fit.max_measured_concurrency = std::max(fit.max_measured_concurrency, pt.concurrency);

  if (p.kappa > 0) {
    double n_star = std::sqrt((1.0 - p.sigma) / p.kappa);
    fit.peak_concurrency = n_star;
    fit.peak_throughput = Predict(p, std::max(n_star, 1.0));
  } else if (p.sigma > 0) {
    fit.peak_throughput = p.lambda / p.sigma;
  }
  // Coherency-bound when the fitted peak lies inside the measured range or within 2x of it (more
  // concurrency will soon lower throughput); otherwise contention-bound (throughput flattens), or
  // linear when both penalties together cost under 1 % at the largest measured concurrency.
  double n = fit.max_measured_concurrency;
  double penalty = p.sigma * (n - 1) + p.kappa * n * (n - 1);
  if (fit.peak_concurrency && *fit.peak_concurrency <= 2 * n) {
    fit.bound = UslBound::kCoherency;
  } else if (penalty < 0.01) {
    fit.bound = UslBound::kLinear;
  } else {
    fit.bound = UslBound::kContention;
  }
  return fit;
}

Result<std::vector<UslPoint>> ReadUslCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(path + ": cannot open (check the path)");
  std::vector<UslPoint> points;
  std::string line;
  int line_no = 0;
  bool seen_row = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    size_t comma = line.find(',');
    if (comma == std::string::npos)
      return Fail(path + ":" + std::to_string(line_no) +
                  ": expected 'concurrency,throughput' (two comma-separated numbers)");
    std::string a = line.substr(0, comma), b = line.substr(comma + 1);
    char* end_a = nullptr;
    char* end_b = nullptr;
    double n = std::strtod(a.c_str(), &end_a);
    double x = std::strtod(b.c_str(), &end_b);
    auto rest_blank = [](const char* p) {
      while (*p == ' ' || *p == '\t') ++p;
      return *p == '\0';
    };
    bool numeric = end_a != a.c_str() && end_b != b.c_str() && rest_blank(end_a) &&
                   rest_blank(end_b);
    if (!numeric) {
      if (!seen_row) {  // the first non-comment line may be a header
        seen_row = true;
        continue;
      }
      return Fail(path + ":" + std::to_string(line_no) + ": '" + line +
                  "' is not two numbers (expected 'concurrency,throughput')");
    }
    seen_row = true;
    points.push_back({n, x});
  }
  if (points.empty()) return Fail(path + ": no data rows (expected 'concurrency,throughput')");
  return points;
}

}  // namespace headroom::model
