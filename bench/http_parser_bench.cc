// ResponseParser throughput against a peer: the nodejs http_parser (the parser wrk uses),
// on the same bytes in the same run. Prints Google Benchmark results, then one ratio line per
// workload (peer CPU time / headroom CPU time; > 1 means headroom is faster).
//
// Workloads: a typical nginx 200 with a 612-byte body; a chunked response; 16 pipelined small
// responses in one buffer; the nginx response arriving in 64-byte reads (split headers).
#include <benchmark/benchmark.h>
#include <http_parser.h>

#include <cstdio>
#include <map>
#include <string>

#include "http/http.h"

namespace {

using headroom::http::ParseStatus;
using headroom::http::ResponseParser;

std::string NginxResponse() {
  return "HTTP/1.1 200 OK\r\n"
         "Server: nginx/1.22.1\r\n"
         "Date: Mon, 23 Nov 2026 12:00:00 GMT\r\n"
         "Content-Type: text/html\r\n"
         "Content-Length: 612\r\n"
         "Last-Modified: Tue, 11 Apr 2023 01:45:34 GMT\r\n"
         "Connection: keep-alive\r\n"
         "ETag: \"6434bbbe-264\"\r\n"
         "Accept-Ranges: bytes\r\n"
         "\r\n" +
         std::string(612, 'x');
}

std::string ChunkedResponse() {
  std::string out =
      "HTTP/1.1 200 OK\r\nServer: demo\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 8; ++i) out += "80\r\n" + std::string(128, 'j') + "\r\n";
  return out + "0\r\n\r\n";
}

std::string Pipelined() {
  std::string out;
  for (int i = 0; i < 16; ++i) out += "HTTP/1.1 204 No Content\r\nServer: demo\r\nX-Id: 12345\r\n\r\n";
  return out;
}

struct Workload {
  std::string bytes;
  size_t read_bytes;  // size of each simulated read
  int responses;      // responses in bytes
};

const std::map<std::string, Workload>& Workloads() {
  static const std::map<std::string, Workload> workloads = {
      {"nginx_200", {NginxResponse(), SIZE_MAX, 1}},
      {"chunked", {ChunkedResponse(), SIZE_MAX, 1}},
      {"pipelined_16", {Pipelined(), SIZE_MAX, 16}},
      {"nginx_200_64b_reads", {NginxResponse(), 64, 1}},
  };
  return workloads;
}

void BM_Headroom(benchmark::State& state, const std::string& name) {
  const Workload& w = Workloads().at(name);
  ResponseParser parser;
  int64_t done = 0;
  for (auto _ : state) {
    parser.Reset();
    size_t pos = 0;
    while (pos < w.bytes.size()) {
      const size_t n = std::min(w.read_bytes, w.bytes.size() - pos);
      size_t off = 0;
      while (off < n) {
        size_t used = 0;
        const ParseStatus st = parser.Feed(w.bytes.data() + pos + off, n - off, &used);
        off += used;
        if (st == ParseStatus::kComplete) {
          ++done;
          parser.Reset();
        } else if (st == ParseStatus::kError) {
          state.SkipWithError("parse error");
          return;
        }
      }
      pos += n;
    }
  }
  if (done != static_cast<int64_t>(state.iterations()) * w.responses) state.SkipWithError("miscount");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * w.bytes.size()));
  state.SetItemsProcessed(done);
}

int OnComplete(http_parser* p) {
  ++*static_cast<int64_t*>(p->data);
  return 0;
}

void BM_HttpParser(benchmark::State& state, const std::string& name) {
  const Workload& w = Workloads().at(name);
  http_parser_settings settings{};
  settings.on_message_complete = OnComplete;
  http_parser parser{};
  int64_t done = 0;
  for (auto _ : state) {
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = &done;
    size_t pos = 0;
    while (pos < w.bytes.size()) {
      const size_t n = std::min(w.read_bytes, w.bytes.size() - pos);
      if (http_parser_execute(&parser, &settings, w.bytes.data() + pos, n) != n) {
        state.SkipWithError("peer parse error");
        return;
      }
      pos += n;
    }
  }
  if (done != static_cast<int64_t>(state.iterations()) * w.responses) state.SkipWithError("miscount");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * w.bytes.size()));
  state.SetItemsProcessed(done);
}

// Console output plus a ratio per workload once everything has run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && !run.error_occurred) {
        times_ns_[run.benchmark_name()] = run.GetAdjustedCPUTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatios() const {
    for (const auto& [name, w] : Workloads()) {
      const auto ours = times_ns_.find("headroom/" + name);
      const auto peer = times_ns_.find("http_parser/" + name);
      if (ours == times_ns_.end() || peer == times_ns_.end()) continue;
      std::printf("ratio %-22s http_parser/headroom cpu time = %.2fx\n", name.c_str(),
                  peer->second / ours->second);
    }
  }

 private:
  std::map<std::string, double> times_ns_;
};

}  // namespace

int main(int argc, char** argv) {
  for (const auto& [name, w] : Workloads()) {
    benchmark::RegisterBenchmark(("headroom/" + name).c_str(), BM_Headroom, name);
    benchmark::RegisterBenchmark(("http_parser/" + name).c_str(), BM_HttpParser, name);
  }
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
