// Human summary of a run for the terminal (plain text, no control characters).
#pragma once
#include <string>

#include "report/results.h"

namespace headroom::report {

// `before_verdict`: text printed just above the verdict line (the bottleneck ranking, when tiers
// were watched).
std::string FormatSummary(const Results& r, const std::string& before_verdict = "");
// One line for a latency histogram: "p50 1.20ms  p90 ...  max ...  mean ...".
std::string LatencyLine(const Histogram& h);

// https runs: "TLSv1.3 TLS_AES_256_GCM_SHA384, http/1.1, certificate verified; handshakes 2 new, 48
// resumed" ("certificate NOT verified (--insecure)" when verification was off); "" for http.
std::string TlsLine(const Transport& t);
// HTTP/2 runs: "h2 (by ALPN), up to 100 streams per connection, peak 100 in flight; received 0
// GOAWAY, 0 RST_STREAM; 0 requests retried"; "" for HTTP/1.1.
std::string H2Line(const Transport& t);

// True when raising --connections would help: over 1% of the open model's requests waited while
// every allowed connection was open, and the server kept up (its service-time p99 is at most half
// the response-time p99, so the waiting happened in the generator, and under 1% errors). A server
// that closes connections, or a refused port, reopens connections without reaching the cap.
bool ConnectionCapLimited(const Results& r);

}  // namespace headroom::report
