// The prometheus source: scrapes an exporter, keeps the selected series, and turns counters into
// per-second rates and histograms into quantiles of what was observed during each interval.
#include <algorithm>
#include <cmath>

#include "collect/internal.h"

namespace headroom::collect {
namespace {

constexpr size_t kMaxSeries = 5000;

bool Selected(const std::vector<std::string>& selectors, std::string_view family) {
  if (selectors.empty()) return true;
  for (const std::string& s : selectors) {
    if (!s.empty() && s.back() == '*' ? family.starts_with(std::string_view(s).substr(0, s.size() - 1)) : family == s) {
      return true;
    }
  }
  return false;
}

struct Bucket {
  double le = 0;
  double count = 0;  // cumulative
};

// The q-quantile of cumulative buckets by linear interpolation inside the bucket that holds it,
// as Prometheus' histogram_quantile does; nullopt when the buckets are empty.
std::optional<double> BucketQuantile(std::vector<Bucket> buckets, double q) {
  std::sort(buckets.begin(), buckets.end(), [](const Bucket& a, const Bucket& b) { return a.le < b.le; });
  if (buckets.empty() || !std::isinf(buckets.back().le)) return std::nullopt;
  const double total = buckets.back().count;
  if (total <= 0) return std::nullopt;
  const double rank = q * total;
  double lower = 0, below = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    const Bucket& b = buckets[i];
    if (b.count >= rank) {
      if (std::isinf(b.le)) return lower;  // above the largest finite bound: that bound
      if (i == 0 && b.le <= 0) return b.le;
      const double in_bucket = b.count - below;
      return in_bucket <= 0 ? b.le : lower + (b.le - lower) * (rank - below) / in_bucket;
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

class PrometheusSource final : public Source {
 public:
  PrometheusSource(const WatchSpec& spec, const SourceOptions& options)
      : label_(spec.label), url_(spec.arg), selectors_(spec.selectors), timeout_ns_(options.timeout_ns) {}
  SourceKind kind() const override { return SourceKind::kPrometheus; }
  const std::string& label() const override { return label_; }
  Result<Reading> Read(int64_t now_ns) override;

 private:
  void AddFamily(const PromFamily& family, Reading& out);
  void AddHistogram(const PromFamily& family, Reading& out);

  std::string label_, url_;
  std::vector<std::string> selectors_;
  int64_t timeout_ns_;
  RateTracker rates_;
};

void PrometheusSource::AddHistogram(const PromFamily& family, Reading& out) {
  // Per series (labels without `le`): bucket deltas, count and sum deltas.
  struct Series {
    std::vector<Bucket> buckets;
    std::optional<double> count, sum;
  };
  std::map<std::string, Series> series;
  for (const PromSample& s : family.samples) {
    const std::string key = PromSeriesName(family.name, s.labels, "le");
    if (s.name == family.name + "_bucket") {
      std::optional<double> le;
      for (const auto& [k, v] : s.labels) {
        if (k == "le") le = v == "+Inf" ? std::numeric_limits<double>::infinity() : ToNumber(v).value_or(NAN);
      }
      if (!le || std::isnan(*le)) continue;
      if (auto d = rates_.Delta(PromSeriesName(s.name, s.labels), s.value)) series[key].buckets.push_back({*le, *d});
    } else if (s.name == family.name + "_count") {
      series[key].count = rates_.Delta(key + "#count", s.value);
    } else if (s.name == family.name + "_sum") {
      series[key].sum = rates_.Delta(key + "#sum", s.value);
    }
  }
  const double interval_s = rates_.interval_s();
  for (auto& [key, s] : series) {
    if (s.count && interval_s > 0) out.metrics.push_back(Metric{key + ":per_s", *s.count / interval_s, MetricType::kRate});
    if (s.count && s.sum && *s.count > 0) out.metrics.push_back(Metric{key + ":mean", *s.sum / *s.count});
    for (auto [q, name] : {std::pair{0.5, ":p50"}, {0.9, ":p90"}, {0.99, ":p99"}}) {
      if (auto v = BucketQuantile(s.buckets, q)) out.metrics.push_back(Metric{key + name, *v});
    }
  }
}

void PrometheusSource::AddFamily(const PromFamily& family, Reading& out) {
  switch (family.type) {
    case PromType::kCounter:
      for (const PromSample& s : family.samples) {
        if (!s.name.ends_with("_created")) rates_.AddRate(out.metrics, PromSeriesName(s.name, s.labels), s.value);
      }
      return;
    case PromType::kHistogram:
      AddHistogram(family, out);
      return;
    case PromType::kSummary:
      for (const PromSample& s : family.samples) {
        if (s.name.ends_with("_created")) continue;
        if (s.name == family.name + "_count" || s.name == family.name + "_sum") {
          rates_.AddRate(out.metrics, PromSeriesName(s.name, s.labels), s.value);
        } else if (!std::isnan(s.value)) {
          out.metrics.push_back(Metric{PromSeriesName(s.name, s.labels), s.value});
        }
      }
      return;
    case PromType::kInfo:
      return;  // labels only, no measurement
    default:
      for (const PromSample& s : family.samples) {
        if (!std::isnan(s.value) && !s.name.ends_with("_created")) {
          out.metrics.push_back(Metric{PromSeriesName(s.name, s.labels), s.value});
        }
      }
  }
}

Result<Reading> PrometheusSource::Read(int64_t now_ns) {
  auto body = HttpGet(url_, timeout_ns_);
  if (!body) {
    rates_.Reset();
    return std::unexpected(body.error());
  }
  auto families = ParsePrometheusText(*body);
  if (!families) {
    rates_.Reset();
    return Fail("the exporter's answer is not Prometheus text: " + families.error().message);
  }
  rates_.Begin(now_ns);
  Reading out;
  size_t kept = 0, skipped = 0;
  for (const PromFamily& family : *families) {
    if (!Selected(selectors_, family.name)) continue;
    if (kept + family.samples.size() > kMaxSeries) {
      skipped += family.samples.size();
      continue;
    }
    kept += family.samples.size();
    AddFamily(family, out);
  }
  if (skipped > 0) {
    out.attributes.emplace_back("series", "kept " + std::to_string(kept) + " series, dropped " +
                                              std::to_string(skipped) + " (limit " + std::to_string(kMaxSeries) +
                                              "); add selectors to choose");
  }
  rates_.Prune();
  return out;
}

}  // namespace

std::unique_ptr<Source> MakePrometheusSource(const WatchSpec& spec, const SourceOptions& options) {
  return std::make_unique<PrometheusSource>(spec, options);
}

}  // namespace headroom::collect
