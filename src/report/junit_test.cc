#include "report/junit.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report/testdata/golden.h"
#include "report/testdata/sample_results.h"

namespace headroom::report {
namespace {

using fixture::ExpectGolden;

// A minimal well-formedness check: tags balance, attribute values are quoted and hold no raw '<'
// or '"', and every '&' starts a predefined or numeric entity.
std::string CheckXml(const std::string& xml) {
  std::vector<std::string> open;
  for (size_t i = 0; i < xml.size();) {
    if (xml[i] == '&') {
      size_t semi = xml.find(';', i);
      if (semi == std::string::npos) return "unterminated entity at " + std::to_string(i);
      const std::string entity = xml.substr(i, semi - i + 1);
      const bool numeric = entity.size() > 3 && entity[1] == '#' &&
                           entity.find_first_not_of("0123456789", 2) == entity.size() - 1;
      if (!numeric && entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" &&
          entity != "&apos;") {
        return "bad entity " + entity;
      }
      i = semi + 1;
      continue;
    }
    if (xml[i] == '>') return "raw '>' in text at " + std::to_string(i);
    if (xml[i] != '<') {
      ++i;
      continue;
    }
    if (xml.compare(i, 2, "<?") == 0) {
      i = xml.find("?>", i);
      if (i == std::string::npos) return "unterminated declaration";
      i += 2;
      continue;
    }
    // Scan the tag, honouring quoted attribute values.
    size_t j = i + 1;
    bool in_quote = false;
    for (; j < xml.size(); ++j) {
      if (in_quote) {
        if (xml[j] == '"') in_quote = false;
        else if (xml[j] == '<') return "raw '<' in an attribute at " + std::to_string(j);
      } else if (xml[j] == '"') {
        in_quote = true;
      } else if (xml[j] == '>') {
        break;
      } else if (xml[j] == '<') {
        return "'<' inside a tag at " + std::to_string(j);
      }
    }
    if (j >= xml.size()) return "unterminated tag";
    std::string tag = xml.substr(i + 1, j - i - 1);
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self_closing = !tag.empty() && tag.back() == '/';
    const std::string name = tag.substr(closing ? 1 : 0, tag.find_first_of(" /", closing ? 1 : 0) - (closing ? 1 : 0));
    if (closing) {
      if (open.empty() || open.back() != name) return "unbalanced </" + name + ">";
      open.pop_back();
    } else if (!self_closing) {
      open.push_back(name);
    }
    i = j + 1;
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return "";
}

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

PhaseResult Phase(const std::string& name, PhaseStatus status, std::vector<SloResult> slo,
                  int64_t ok = 10) {
  PhaseResult p;
  p.name = name;
  p.kind = "baseline";
  p.model = LoadModel::kOpen;
  p.status = status;
  p.section.requests_ok = ok;
  p.section.requests_total = ok;
  p.section.slo = std::move(slo);
  return p;
}

TEST(JunitTest, GoldenSample) {
  const std::string xml = JunitXml(fixture::SampleResults());
  EXPECT_EQ(CheckXml(xml), "");
  ExpectGolden("junit.xml", xml);
}

TEST(JunitTest, TopLevelCountsCoverEveryPhase) {
  const std::string xml = JunitXml(fixture::SampleResults());
  // baseline 2 SLOs, stress 2 (1 broken), soak "requests succeeded", spike 1 skipped.
  EXPECT_NE(xml.find("<testsuites name=\"headroom checkout &amp; search\" tests=\"6\" failures=\"1\" "
                     "errors=\"0\" skipped=\"1\" time=\"121.500\">"),
            std::string::npos)
      << xml;
  EXPECT_EQ(CountOf(xml, "<testsuite "), 4);
  EXPECT_EQ(CountOf(xml, "<testcase "), 6);
}

TEST(JunitTest, EscapesUserText) {
  struct Case {
    std::string in, out;
  };
  const std::vector<Case> cases = {
      {"p95 < 300ms", "p95 &lt; 300ms"},
      {"a & b", "a &amp; b"},
      {"say \"hi\"", "say &quot;hi&quot;"},
      {"it's > 1", "it&apos;s &gt; 1"},
      {"line\nbreak\ttab", "line&#10;break&#9;tab"},
      {std::string("bell\x07"), "bell\xEF\xBF\xBD"},
      {"naïve ✅", "naïve ✅"},
  };
  for (const Case& c : cases) EXPECT_EQ(XmlEscape(c.in), c.out) << c.in;
}

TEST(JunitTest, HostileNamesStayWellFormed) {
  Results r;
  r.target = "http://h/\"<x>&y";
  r.phases = {Phase("a<b>&\"c\"", PhaseStatus::kFailed, {{"req\"x\".p95 < 1ms & more", 2000, "2.00ms <&>", false}})};
  const std::string xml = JunitXml(r);
  EXPECT_EQ(CheckXml(xml), "") << xml;
  EXPECT_NE(xml.find("name=\"req&quot;x&quot;.p95 &lt; 1ms &amp; more\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("message=\"observed 2.00ms &lt;&amp;&gt;, expected req&quot;x&quot;.p95 &lt; 1ms &amp; more\""),
            std::string::npos)
      << xml;
  // classname parts lose the characters reporters would misread.
  EXPECT_NE(xml.find("classname=\"headroom.http___h___x__y.a_b___c_\""), std::string::npos) << xml;
}

TEST(JunitTest, FailureMessageNamesObservedAndExpected) {
  Results r;
  r.scenario = "shop";
  r.phases = {Phase("baseline", PhaseStatus::kFailed, {{"p95 < 300ms", 312'400, "312.4ms", false}, {"max < 2s", 1, "1us", true}})};
  const std::string xml = JunitXml(r);
  EXPECT_NE(xml.find("<testcase name=\"p95 &lt; 300ms\" classname=\"headroom.shop.baseline\">\n"
                     "      <failure message=\"observed 312.4ms, expected p95 &lt; 300ms\" type=\"slo\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase name=\"max &lt; 2s\" classname=\"headroom.shop.baseline\"/>"), std::string::npos);
  EXPECT_EQ(CountOf(xml, "<failure "), 1);
}

TEST(JunitTest, PhaseWithoutSlosChecksThatRequestsSucceeded) {
  Results r;
  r.scenario = "s";
  r.phases = {Phase("good", PhaseStatus::kPassed, {}, 5), Phase("dead", PhaseStatus::kFailed, {}, 0)};
  const std::string xml = JunitXml(r);
  EXPECT_EQ(CountOf(xml, "name=\"requests succeeded\""), 2);
  EXPECT_EQ(CountOf(xml, "<failure "), 1);
  EXPECT_NE(xml.find("message=\"observed 0 successful requests of 0, expected at least 1\""), std::string::npos);
  EXPECT_EQ(CheckXml(xml), "");
}

TEST(JunitTest, SkippedPhaseSkipsEveryCase) {
  Results r;
  r.scenario = "s";
  r.phases = {Phase("later", PhaseStatus::kSkipped, {{"p95 < 1s", 0, "", false}, {"p99 < 2s", 0, "", false}}),
              Phase("empty", PhaseStatus::kSkipped, {}, 0)};
  const std::string xml = JunitXml(r);
  EXPECT_EQ(CountOf(xml, "<skipped message=\"phase skipped\"/>"), 3);
  EXPECT_EQ(CountOf(xml, "<failure "), 0);
  EXPECT_NE(xml.find("tests=\"3\" failures=\"0\" errors=\"0\" skipped=\"3\""), std::string::npos);
}

TEST(JunitTest, AbortedPhaseFailsOnBrokenSlosOnly) {
  Results r;
  r.scenario = "s";
  r.phases = {Phase("ramp", PhaseStatus::kAborted, {{"p95 < 1s", 2e6, "2.00s", false}, {"error_rate < 1%", 0, "0%", true}})};
  const std::string xml = JunitXml(r);
  EXPECT_EQ(CountOf(xml, "<failure "), 1);
  EXPECT_EQ(CountOf(xml, "<testcase "), 2);
}

TEST(JunitTest, NonPassingPhaseWithoutBrokenSloStillFails) {
  Results r;
  r.scenario = "s";
  PhaseResult p = Phase("ramp", PhaseStatus::kInterrupted, {{"p95 < 1s", 1000, "1.00ms", true}});
  p.elapsed_s = 4;
  p.duration_s = 60;
  r.phases = {p};
  const std::string xml = JunitXml(r);
  EXPECT_NE(xml.find("<testcase name=\"phase interrupted\" classname=\"headroom.s.ramp\">\n"
                     "      <failure message=\"phase interrupted after 4.000s of 60.000s planned\""),
            std::string::npos)
      << xml;
}

// A plain URL run has one phase named "run"; when it is interrupted, the extra suite must not take
// the same name, and the phase's own failure is an interruption, not a broken SLO.
TEST(JunitTest, InterruptedPlainRunHasOneSuitePerNameAndNoSloFailure) {
  Results r;
  r.target = "http://127.0.0.1:8080/";
  r.started_at_us = 1'767'225'600'250'000;
  r.verdict = Verdict::kInterrupted;
  r.interrupted = true;
  PhaseResult run = Phase("run", PhaseStatus::kInterrupted, {});
  run.kind = "run";
  run.elapsed_s = 1.5;
  run.duration_s = 4;
  r.phases = {run};
  const std::string xml = JunitXml(r);
  EXPECT_EQ(CheckXml(xml), "") << xml;
  EXPECT_EQ(CountOf(xml, "<testsuite name=\"run\""), 1) << xml;
  EXPECT_EQ(CountOf(xml, "<testsuite name=\"headroom: run interrupted\""), 1) << xml;
  EXPECT_EQ(CountOf(xml, "type=\"slo\""), 0) << xml;
  EXPECT_NE(xml.find("<testcase name=\"phase interrupted\" classname=\"headroom.http___127_0_0_1_8080_.run\">\n"
                     "      <failure message=\"phase interrupted after 1.500s of 4.000s planned\" type=\"interrupted\">"),
            std::string::npos)
      << xml;
  // The run's own testcase sits in a two-level class, which no phase's (three levels) can be.
  EXPECT_NE(xml.find("<testcase name=\"run finished\" classname=\"headroom.http___127_0_0_1_8080_\">"),
            std::string::npos)
      << xml;
}

TEST(JunitTest, SkippedPhaseHasNoStartTimestamp) {
  Results r;
  r.scenario = "s";
  r.started_at_us = 1'767'225'600'250'000;
  PhaseResult first = Phase("first", PhaseStatus::kInterrupted, {});
  first.elapsed_s = 2;
  PhaseResult later = Phase("later", PhaseStatus::kSkipped, {}, 0);
  later.offset_s = 2;
  r.phases = {first, later};
  const std::string xml = JunitXml(r);
  EXPECT_NE(xml.find("<testsuite name=\"first\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"2.000\" "
                     "timestamp=\"2026-01-01T00:00:00\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testsuite name=\"later\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\" time=\"0.000\">"),
            std::string::npos)
      << xml;
}

TEST(JunitTest, NoPhasesIsStillAValidDocument) {
  const std::string xml = JunitXml(Results{});
  EXPECT_EQ(CheckXml(xml), "");
  EXPECT_NE(xml.find("tests=\"0\" failures=\"0\""), std::string::npos);
}

}  // namespace
}  // namespace headroom::report
