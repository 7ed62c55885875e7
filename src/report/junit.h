// JUnit XML for CI test reporters: one <testsuite> per phase, one <testcase> per SLO verdict.
//
// Layout (deterministic: the same Results always give the same bytes; nothing is read from the clock):
//   <testsuites name="headroom <scenario or target>" tests failures errors skipped time>
//     <testsuite name="<phase>" ... time="<phase elapsed_s>"> with <properties> (kind, model, status,
//       rates) and one <testcase name="<SLO expr>" classname="headroom.<scenario or target>.<phase>">
//       per SLO; a broken SLO carries <failure message="observed 312.4ms, expected p95 &lt; 300ms">.
//   - A phase without SLOs gets one testcase "requests succeeded" that fails when no request succeeded.
//   - A skipped phase: every testcase carries <skipped/>.
//   - A phase whose status is neither "passed" nor "skipped" (failed, aborted, interrupted) and that has
//     no failing testcase gets one more testcase "phase <status>" that fails, so the JUnit verdict
//     never reads greener than Results.
// In classname, characters other than letters, digits, '_' and '-' in the scenario/target and phase
// names become '_' (reporters split classnames on '.'). All text is XML-escaped; control characters
// that XML 1.0 cannot carry become U+FFFD.
// Thread-safety: pure function of its argument.
#pragma once
#include <string>

#include "report/results.h"

namespace headroom::report {

std::string JunitXml(const Results& r);

// XML text/attribute escaping (& < > " ' and control characters). Exposed for tests.
std::string XmlEscape(std::string_view text);

}  // namespace headroom::report
