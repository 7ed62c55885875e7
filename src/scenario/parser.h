// The scenario parser shared by loader.cc (top level, defaults, data, requests, SLOs) and
// phases.cc (phases). Private to the scenario library. One parser per load; not thread-safe.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "scenario/values.h"

namespace headroom::scenario {

// Expands ${NAME} and ${NAME:-default} from the environment (target and tier sources).
Result<std::string> ExpandEnv(std::string_view text, std::string_view example_default = "http://127.0.0.1:8080");

class ScenarioParser {
 public:
  ScenarioParser(Diag& diag, std::string base_dir, LoadOptions options = {})
      : diag_(diag), r_(diag), base_dir_(std::move(base_dir)), options_(std::move(options)) {}

  // Fills `out` from the document root; problems go to the Diag.
  void Parse(const YAML::Node& root, Scenario& out);

 private:
  void ParseTarget(const YAML::Node& node, Scenario& out);
  void ParseDefaults(const YAML::Node& node, Defaults& out);
  void ParseHeaders(const YAML::Node& node, std::string_view path, std::vector<Header>& out);
  void ParseData(const YAML::Node& node, std::vector<DataSource>& out);
  void ParseRequests(const YAML::Node& node, Scenario& out);
  // Returns false when the weight could not be read (the weight sum is then not checked).
  bool ParseRequest(const YAML::Node& node, std::string_view path, const Scenario& s, RequestSpec& out);
  void ParseMethod(const YAML::Node& node, std::string_view path, RequestSpec& out);
  // expect.cc
  void ParseExpect(const YAML::Node& node, std::string_view path, RequestSpec& out);
  void ParseExpectStatus(const YAML::Node& node, std::string_view path, Expect& out);
  void ParseExpectHeaders(const YAML::Node& node, std::string_view path, Expect& out);
  void ParseExpectJson(const YAML::Node& node, std::string_view path, Expect& out);
  // A string or a list of strings (body_contains, body_matches); `regex` validates each as RE2.
  void ParseTextList(const YAML::Node& node, std::string_view path, bool regex, std::vector<std::string>& out);
  void ParsePath(const YAML::Node& node, std::string_view path, const Scenario& s, RequestSpec& out);
  void ParseRequestHeaders(const YAML::Node& node, std::string_view path, const Scenario& s, RequestSpec& out);
  void CheckTemplate(const YAML::Node& node, std::string_view path, const std::string& text,
                     const std::vector<DataSource>& data);
  // `scope`: "" for top-level/phase lists (a "request." prefix selects a request), or the name of
  // the request whose `slos` key this is.
  void ParseSlos(const YAML::Node& node, std::string_view path, std::string_view scope,
                 const std::vector<RequestSpec>& requests, std::vector<SloSpec>& out);
  void ParseAbort(const YAML::Node& node, AbortOnFail& out);
  // tiers.cc
  void ParseTiers(const YAML::Node& node, std::vector<Tier>& out);
  bool ParseTier(const YAML::Node& node, std::string_view path, Tier& out);
  void ParseTierSource(const YAML::Node& node, std::string_view path, const std::vector<std::string>& selectors,
                       Tier& out);
  std::optional<std::vector<std::string>> ParseSelectors(const YAML::Node& node, std::string_view path);
  // Reports a tier-metric SLO whose tier is not watched or does not provide the metric.
  void CheckTierSlo(const YAML::Node& item, std::string_view path, const std::string& text, const slo::Objective& o);

  // phases.cc
  void ParsePhases(const YAML::Node& node, Scenario& out);
  bool ParsePhase(const YAML::Node& node, std::string_view path, const Scenario& s,
                  const std::optional<double>& previous_rate, std::string_view previous_reason, Phase& out);
  // The map of one phase kind, where it is, and the previous phase's final rate (for multiples
  // and omitted `from`). An empty previous_reason means "unknown because of earlier errors".
  struct KindBody {
    const YAML::Node& node;
    std::string_view path;
    const std::optional<double>& previous_rate;
    std::string_view previous_reason;
  };
  void ParseKindBody(const KindBody& b, Phase& out);
  void ParseStressBody(const KindBody& b, Phase& out);
  void ParseSpikeBody(const KindBody& b, Phase& out);
  void ParseSoakBody(const KindBody& b, Phase& out);
  // Required positive duration `key` of the body; false if missing or invalid.
  bool BodyDuration(const KindBody& b, std::string_view key, int64_t& field, std::string_view example);
  // Rate or multiple `key` of the body; `positive` rejects 0.
  bool BodyRate(const KindBody& b, std::string_view key, double& field, bool positive);
  // Like BodyRate, but an absent key takes the previous phase's final rate.
  bool BodyRateOrPrevious(const KindBody& b, std::string_view key, double& field);
  // A rate or a multiple ("3x") of the previous phase's final rate.
  std::optional<double> RateOrMultiple(const YAML::Node& node, std::string_view path,
                                       const std::optional<double>& previous_rate, std::string_view previous_reason);
  void CheckPhaseRules(const YAML::Node& node, std::string_view path, const Scenario& s, const Phase& p);

  const std::vector<Tier>* tiers_ = nullptr;  // set once `tiers` is parsed (SLOs are checked against it)
  bool tiers_failed_ = false;                  // `tiers` had errors: tier SLOs are not checked again
  Diag& diag_;
  Reader r_;
  std::string base_dir_;
  std::string target_;  // the parsed target ("" when it had errors): defaults.http is checked against it
  LoadOptions options_;
  std::vector<std::string> failed_sources_;
  // Set when a phase's rate depends on a previous phase that has errors (not reported twice).
  bool rate_unknown_ = false;  // data sources whose file could not be loaded
};

}  // namespace headroom::scenario
