#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/model.h"

namespace headroom::model {
namespace {

const std::string kTestdata = std::string(HEADROOM_SOURCE_DIR) + "/src/model/testdata/";

// |actual - expected| <= 0.5 % of expected.
void ExpectWithinHalfPercent(double actual, double expected, const char* what) {
  EXPECT_LE(std::fabs(actual - expected), 0.005 * std::fabs(expected))
      << what << ": got " << actual << ", expected " << expected;
}

TEST(Usl, FitsSpecSdm91Reference) {
  auto points = ReadUslCsv(kTestdata + "sdm91.csv");
  ASSERT_TRUE(points.has_value()) << points.error().message;
  ASSERT_EQ(points->size(), 7u);
  auto fit = FitUsl(*points);
  ASSERT_TRUE(fit.has_value()) << fit.error().message;
  ExpectWithinHalfPercent(fit->sigma, 0.02773, "sigma");
  ExpectWithinHalfPercent(fit->kappa, 0.0001044, "kappa");
  ExpectWithinHalfPercent(fit->lambda, 89.995, "lambda");
  // N* = sqrt((1 - sigma) / kappa) from the reference coefficients.
  ASSERT_TRUE(fit->peak_concurrency.has_value());
  ExpectWithinHalfPercent(*fit->peak_concurrency, std::sqrt((1 - 0.02773) / 0.0001044), "N*");
  ASSERT_TRUE(fit->peak_throughput.has_value());
  double n = *fit->peak_concurrency;
  double x_peak = 89.995 * n / (1 + 0.02773 * (n - 1) + 0.0001044 * n * (n - 1));
  ExpectWithinHalfPercent(*fit->peak_throughput, x_peak, "X(N*)");
  EXPECT_GT(fit->r2, 0.98);
  EXPECT_EQ(fit->bound, UslBound::kCoherency);  // measured past the peak: throughput falls
}

// Points generated exactly from known coefficients must give those coefficients back.
struct SyntheticCase {
  double sigma, kappa, lambda;
  UslBound bound;
};

class UslSynthetic : public ::testing::TestWithParam<SyntheticCase> {};

TEST_P(UslSynthetic, RecoversGeneratingCoefficients) {
  const SyntheticCase& c = GetParam();
  UslFit truth;
  truth.sigma = c.sigma, truth.kappa = c.kappa, truth.lambda = c.lambda;
  std::vector<UslPoint> points;
  for (double n : {1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0}) points.push_back({n, UslThroughput(truth, n)});
  auto fit = FitUsl(points);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->sigma, c.sigma, 1e-4);
  EXPECT_NEAR(fit->kappa, c.kappa, 1e-6);
  ExpectWithinHalfPercent(fit->lambda, c.lambda, "lambda");
  EXPECT_NEAR(fit->r2, 1.0, 1e-9);
  EXPECT_EQ(fit->bound, c.bound);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UslSynthetic,
    ::testing::Values(SyntheticCase{0.05, 0.0, 100.0, UslBound::kContention},
                      SyntheticCase{0.01, 0.001, 250.0, UslBound::kCoherency},
                      SyntheticCase{0.0, 0.0, 42.0, UslBound::kLinear}));

TEST(Usl, LinearScalingHasNoPeak) {
  std::vector<UslPoint> points = {{1, 10}, {2, 20}, {4, 40}, {8, 80}};
  auto fit = FitUsl(points);
  ASSERT_TRUE(fit.has_value());
  EXPECT_FALSE(fit->peak_concurrency.has_value());
  EXPECT_FALSE(fit->peak_throughput.has_value());
  EXPECT_EQ(UslBoundName(fit->bound), "linear");
}

TEST(Usl, RejectsTooFewOrInvalidPoints) {
  std::vector<UslPoint> two = {{1, 10}, {2, 19}};
  EXPECT_FALSE(FitUsl(two).has_value());
  std::vector<UslPoint> repeated = {{1, 10}, {1, 11}, {2, 19}};
  EXPECT_FALSE(FitUsl(repeated).has_value());
  std::vector<UslPoint> zero_n = {{0, 10}, {1, 11}, {2, 19}};
  auto r = FitUsl(zero_n);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("concurrency must be > 0"), std::string::npos);
}

TEST(UslCsv, ErrorsNameFileAndLine) {
  auto r = ReadUslCsv(kTestdata + "bad_row.csv");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("bad_row.csv:3:"), std::string::npos) << r.error().message;
  auto missing = ReadUslCsv(kTestdata + "does_not_exist.csv");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("cannot open"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------

TEST(Queue, ErlangCReference) {
  // c = 4, arrivals 0.35/min, service 10 min (offered load 3.5 Erlangs).
  auto r = SolveMmc({4, 0.35, 10.0});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ExpectWithinHalfPercent(r->wait_mean, 14.7572, "wait_mean");
  ExpectWithinHalfPercent(r->response_mean, 24.7572, "response_mean");
  ExpectWithinHalfPercent(r->utilization, 0.875, "utilization");
  // Hand-computed: B(4, 3.5) = 0.260272, C = 4B / (4 - 3.5(1 - B)) = 0.737862.
  ExpectWithinHalfPercent(r->wait_probability, 0.737862, "wait_probability");
  EXPECT_GT(r->response_p99, r->response_p95);
  EXPECT_GT(r->response_p95, r->response_mean);
}

struct MmOneCase {
  double arrival_rate, service_time;
};

class QueueMmOne : public ::testing::TestWithParam<MmOneCase> {};

// M/M/1 by hand: C = rho, Wq = rho*S/(1-rho), T ~ Exp(mu - lambda) so p_q = -ln(1-q)/(mu-lambda).
TEST_P(QueueMmOne, MatchesClosedForm) {
  const MmOneCase& c = GetParam();
  auto r = SolveMmc({1, c.arrival_rate, c.service_time});
  ASSERT_TRUE(r.has_value());
  double rho = c.arrival_rate * c.service_time;
  double rate = 1.0 / c.service_time - c.arrival_rate;
  ExpectWithinHalfPercent(r->wait_probability, rho, "C");
  ExpectWithinHalfPercent(r->wait_mean, rho * c.service_time / (1 - rho), "Wq");
  ExpectWithinHalfPercent(r->response_p95, std::log(20.0) / rate, "p95");
  ExpectWithinHalfPercent(r->response_p99, std::log(100.0) / rate, "p99");
}

INSTANTIATE_TEST_SUITE_P(Cases, QueueMmOne,
                         ::testing::Values(MmOneCase{0.5, 1.0}, MmOneCase{80.0, 0.01},
                                           MmOneCase{9.9, 0.1}));

TEST(Queue, ErlangBHandValues) {
  EXPECT_NEAR(ErlangB(1, 2.0), 2.0 / 3.0, 1e-12);
  // B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
  EXPECT_NEAR(ErlangB(2, 1.0), 0.2, 1e-12);
}

TEST(Queue, LargeServerCountsStayFinite) {
  auto r = SolveMmc({2000, 1900.0, 1.0});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(std::isfinite(r->wait_mean));
  EXPECT_GE(r->wait_probability, 0.0);
  EXPECT_LE(r->wait_probability, 1.0);
}

TEST(Queue, RejectsUnstableAndInvalidInput) {
  EXPECT_FALSE(SolveMmc({4, 0.4, 10.0}).has_value());  // rho = 1
  EXPECT_FALSE(SolveMmc({0, 0.1, 10.0}).has_value());
  EXPECT_FALSE(SolveMmc({2, 0.1, 0.0}).has_value());
  EXPECT_FALSE(SolveMmc({2, -1.0, 1.0}).has_value());
}

TEST(Queue, MaxUtilizationMeetsTargetAndGrowsWithServers) {
  const double service_ms = 20, target_ms = 150;
  double prev = 0;
  for (int servers : {1, 2, 4, 16, 64}) {
    double rho = MaxUtilizationForQuantile(servers, service_ms, 0.95, target_ms);
    ASSERT_GT(rho, 0.0);
    ASSERT_LT(rho, 1.0);
    EXPECT_GE(rho, prev) << "pooling more servers never lowers the safe utilization";
    prev = rho;
    MmcInput at{servers, rho * servers / service_ms, service_ms};
    EXPECT_LE(MmcResponseQuantile(at, 0.95), target_ms * 1.0001);
    MmcInput above{servers, std::min(rho + 0.01, 0.9999) * servers / service_ms, service_ms};
    if (rho + 0.01 < 0.9999) {
      EXPECT_GT(MmcResponseQuantile(above, 0.95), target_ms);
    }
  }
  // M/M/1 by hand: p95 = ln(20)*S/(1-rho) <= 150 -> rho <= 1 - ln(20)*20/150 = 0.60056.
  EXPECT_NEAR(MaxUtilizationForQuantile(1, service_ms, 0.95, target_ms), 0.6005, 2e-4);
  // S*ln(20) = 59.9 ms > 50 ms: no utilization is fast enough.
  EXPECT_EQ(MaxUtilizationForQuantile(4, service_ms, 0.95, 50), 0.0);
}

// ---------------------------------------------------------------------------------------------

TEST(Results, ReadsStressCapacityAndCurve) {
  auto r = ReadResultsSummary(kTestdata + "results_stress.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(r->capacity_rps.has_value());
  EXPECT_EQ(*r->capacity_rps, 4200);
  EXPECT_EQ(r->capacity_field, "phases[1].stress.capacity_rps");
  ASSERT_EQ(r->curve.size(), 5u);
  EXPECT_EQ(r->curve[3].rate_rps, 4000);
  EXPECT_EQ(r->curve[3].achieved_rps, 3850);
  EXPECT_EQ(r->curve[3].p95_us, 6100);
  EXPECT_DOUBLE_EQ(r->curve[4].error_rate, 0.08);
  auto points = CurveToUslPoints(r->curve);
  ASSERT_EQ(points.size(), 5u);
  auto fit = FitUsl(points);
  ASSERT_TRUE(fit.has_value());
  EXPECT_GT(fit->r2, 0.9);
}

TEST(Results, SkipsConfirmationRepeatsAndNullCapacity) {
  auto r = ParseResultsSummary(R"({"schema": "headroom.results/2", "phases": [{"stress": {
      "capacity_rps": null, "curve": [
        {"rate_rps": 100, "achieved_rps": 100, "confirmation": false},
        {"rate_rps": 200, "achieved_rps": 150, "confirmation": false},
        {"rate_rps": 100, "achieved_rps": 99, "confirmation": true}]}}]})",
                               "inline");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->capacity_rps.has_value());
  ASSERT_EQ(r->curve.size(), 2u);
  EXPECT_EQ(r->curve[1].rate_rps, 200);
}

TEST(Results, LeavesOutInterruptedPointsAndWarns) {
  // A Ctrl-C during the 400/s step: its figures cover part of the step.
  auto r = ParseResultsSummary(R"({"schema": "headroom.results/3", "interrupted": true, "complete": true,
      "phases": [{"stress": {"capacity_rps": 200, "curve": [
        {"rate_rps": 100, "achieved_rps": 100, "confirmation": false, "interrupted": false},
        {"rate_rps": 200, "achieved_rps": 199, "confirmation": false, "interrupted": false},
        {"rate_rps": 400, "achieved_rps": 133, "confirmation": false, "interrupted": true}]}}]})",
                               "r.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->curve.size(), 2u);
  EXPECT_EQ(r->curve[1].rate_rps, 200);
  EXPECT_EQ(r->interrupted_points, 1);
  EXPECT_EQ(r->warning, "r.json: the run was interrupted (interrupted: true); its figures may stop short of the real "
                        "capacity; 1 interrupted curve point left out");
  EXPECT_EQ(r->warning.find('\n'), std::string::npos);
}

TEST(Results, WarnsAboutCheckpointsOnly) {
  auto checkpoint = ParseResultsSummary(R"({"complete": false, "throughput": {"achieved_rps": 5}})", "c.json");
  ASSERT_TRUE(checkpoint.has_value());
  EXPECT_EQ(checkpoint->warning,
            "c.json: a checkpoint of a run still going or killed (complete: false); its figures may stop short of "
            "the real capacity");
  auto whole = ParseResultsSummary(R"({"complete": true, "interrupted": false, "throughput": {"achieved_rps": 5}})",
                                   "w.json");
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->warning, "");
}

TEST(Results, ReadsPlainRun) {
  auto r = ReadResultsSummary(kTestdata + "results_plain.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->capacity_rps.has_value());
  EXPECT_EQ(r->achieved_rps.value_or(0), 812.5);
  EXPECT_EQ(r->p95_us.value_or(0), 280000);
  EXPECT_EQ(r->capacity_field, "throughput.achieved_rps");
}

TEST(Results, RejectsFilesWithoutFigures) {
  EXPECT_FALSE(ReadResultsSummary(kTestdata + "results_empty.json").has_value());
  EXPECT_FALSE(ParseResultsSummary("{not json", "inline").has_value());
  EXPECT_FALSE(ParseResultsSummary("[1,2]", "inline").has_value());
  EXPECT_FALSE(
      ParseResultsSummary(R"({"schema": "other/1", "throughput": {"achieved_rps": 5}})", "inline")
          .has_value());
  EXPECT_FALSE(ReadResultsSummary(kTestdata + "nope.json").has_value());
}

}  // namespace
}  // namespace headroom::model
