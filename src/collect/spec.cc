// Watch specs ("KIND[:ARG]"), tier specs, conninfo redaction and the fake source.
#include <libpq-fe.h>

#include <charconv>
#include <cctype>

#include "collect/internal.h"
#include "core/diag.h"

namespace headroom::collect {
namespace {

constexpr std::string_view kKinds[] = {"host", "process", "prometheus", "postgres", "redis"};
constexpr std::string_view kExamples =
    "host, process:NAME|PID, prometheus:http://HOST:PORT/metrics, postgres:CONNINFO, redis:HOST:PORT";

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Checks a port number; the error reads "KIND: 'ARG' has a bad port 'P'" when it is not
// 1..65535.
Status CheckPort(std::string_view kind, std::string_view arg, std::string_view port) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (!AllDigits(port) || ec != std::errc() || value == 0 || value > 65535) {
    return Fail(std::string(kind) + ": '" + std::string(arg) + "' has a bad port '" + std::string(port) + "'");
  }
  return Ok();
}

Status CheckProcess(std::string_view arg) {
  if (arg.empty()) return Fail("process needs a name or a pid: process:postgres or process:1234");
  if (AllDigits(arg)) {
    unsigned long pid = 0;
    auto [ptr, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), pid);
    if (ec != std::errc() || pid == 0 || pid > 4'194'304) return Fail("process pid '" + std::string(arg) + "' is out of range");
    return Ok();
  }
  if (arg.find('/') != std::string_view::npos) {
    return Fail("process name '" + std::string(arg) + "' has a '/': give the program's name (postgres), not its path");
  }
  return Ok();
}

Status CheckPrometheus(std::string_view arg) {
  if (arg.empty()) return Fail("prometheus needs a URL: prometheus:http://127.0.0.1:9100/metrics");
  if (arg.starts_with("https://")) return Fail("prometheus: https is not supported; scrape the exporter over http://");
  if (!arg.starts_with("http://")) {
    return Fail("prometheus: '" + std::string(arg) + "' is not an http:// URL (write prometheus:http://" +
                std::string(arg) + ")");
  }
  std::string_view rest = arg.substr(7);
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty() || authority.front() == ':') return Fail("prometheus: '" + std::string(arg) + "' has no host");
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.back() != ']') {
    return CheckPort("prometheus", arg, authority.substr(colon + 1));
  }
  return Ok();
}

Status CheckPostgres(std::string_view arg) {
  if (arg.empty()) {
    return Fail("postgres needs a conninfo: postgres:host=127.0.0.1 port=5432 dbname=app (or postgres:postgresql://...)");
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(arg).c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return Fail("postgres: bad conninfo: " + RedactConninfo(message));
  }
  PQconninfoFree(options);
  return Ok();
}

Status CheckRedis(std::string_view arg) {
  if (arg.empty()) return Fail("redis needs HOST:PORT: redis:127.0.0.1:6379");
  if (arg.starts_with("redis://")) return Fail("redis: write redis:HOST:PORT, not a redis:// URL");
  const size_t colon = arg.rfind(':');
  if (colon == std::string_view::npos) return Ok();  // port 6379
  if (colon == 0) return Fail("redis: '" + std::string(arg) + "' has no host");
  return CheckPort("redis", arg, arg.substr(colon + 1));
}

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kHost:
      return "host";
    case SourceKind::kProcess:
      return "process";
    case SourceKind::kPrometheus:
      return "prometheus";
    case SourceKind::kPostgres:
      return "postgres";
    case SourceKind::kRedis:
      return "redis";
    case SourceKind::kFake:
      return "fake";
  }
  return "?";
}

std::string RedactConninfo(std::string_view conninfo) {
  std::string out(conninfo);
  // URI form: scheme://user:password@host...
  if (const size_t scheme = out.find("://"); scheme != std::string::npos) {
    const size_t at = out.find('@', scheme + 3);
    const size_t slash = out.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const size_t colon = out.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // key=value form and URI query parameters: password=... up to a space, '&' or the end; a
  // quoted value ('...' with \' escapes) up to its closing quote.
  size_t pos = 0;
  while ((pos = out.find("password", pos)) != std::string::npos) {
    size_t i = pos + 8;
    while (i < out.size() && out[i] == ' ') ++i;
    const bool starts_key = pos == 0 || out[pos - 1] == ' ' || out[pos - 1] == '?' || out[pos - 1] == '&';
    if (!starts_key || i >= out.size() || out[i] != '=') {
      pos += 8;
      continue;
    }
    ++i;
    while (i < out.size() && out[i] == ' ') ++i;
    size_t end = i;
    if (end < out.size() && out[end] == '\'') {
      ++end;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, out.size());
    } else {
      while (end < out.size() && out[end] != ' ' && out[end] != '&') ++end;
    }
    out.replace(i, end - i, "***");
    pos = i + 3;
  }
  return out;
}

Result<WatchSpec> ParseWatchSpec(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return Fail("empty watch spec; use one of: " + std::string(kExamples));
  const size_t colon = text.find(':');
  std::string_view kind_text = text.substr(0, colon);
  std::string_view arg = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  WatchSpec spec;
  spec.arg = std::string(arg);
  Status checked = Ok();
  if (kind_text == "host") {
    spec.kind = SourceKind::kHost;
    if (colon != std::string_view::npos) checked = Fail("host takes no argument: write host");
  } else if (kind_text == "process") {
    spec.kind = SourceKind::kProcess;
    checked = CheckProcess(arg);
  } else if (kind_text == "prometheus") {
    spec.kind = SourceKind::kPrometheus;
    checked = CheckPrometheus(arg);
  } else if (kind_text == "postgres" || kind_text == "postgresql") {
    spec.kind = SourceKind::kPostgres;
    // A URI keeps its scheme: "postgres:postgresql://u@h/db" hands "postgresql://u@h/db" to libpq.
    checked = CheckPostgres(arg);
  } else if (kind_text == "redis") {
    spec.kind = SourceKind::kRedis;
    checked = CheckRedis(arg);
  } else {
    std::string shown(kind_text.substr(0, 40));
    return Fail("unknown source kind '" + shown + "'" + DidYouMean(kind_text, std::vector<std::string>(
                                                                                  std::begin(kKinds), std::end(kKinds))) +
                " (use one of: " + std::string(kExamples) + ")");
  }
  if (!checked) return std::unexpected(checked.error());
  spec.label = std::string(SourceKindName(spec.kind));
  if (!spec.arg.empty()) spec.label += ":" + (spec.kind == SourceKind::kPostgres ? RedactConninfo(spec.arg) : spec.arg);
  return spec;
}

Result<TierSpec> ParseTierSpec(std::string name, std::string kind, const std::vector<std::string>& sources,
                               int64_t interval_ns, const std::vector<std::string>& selectors) {
  if (sources.empty()) return Fail("tier '" + name + "' has no sources");
  if (interval_ns < 10'000'000) return Fail("tier '" + name + "': the interval must be at least 10ms");
  TierSpec tier{std::move(name), std::move(kind), {}, interval_ns};
  for (size_t i = 0; i < sources.size(); ++i) {
    auto spec = ParseWatchSpec(sources[i]);
    if (!spec) return Fail("source " + std::to_string(i + 1) + ": " + spec.error().message);
    if (spec->kind == SourceKind::kPrometheus) spec->selectors = selectors;
    tier.sources.push_back(std::move(*spec));
  }
  return tier;
}

Result<Reading> FakeSource::Read(int64_t) {
  if (script_.empty()) return Fail("fake source has no script");
  const size_t i = std::min(static_cast<size_t>(reads_), script_.size() - 1);
  ++reads_;
  return script_[i];
}

std::unique_ptr<Source> MakeSource(const WatchSpec& spec, const SourceOptions& options) {
  switch (spec.kind) {
    case SourceKind::kHost:
      return MakeHostSource(spec, options);
    case SourceKind::kProcess:
      return MakeProcessSource(spec, options);
    case SourceKind::kPrometheus:
      return MakePrometheusSource(spec, options);
    case SourceKind::kPostgres:
      return MakePostgresSource(spec, options);
    case SourceKind::kRedis:
      return MakeRedisSource(spec, options);
    case SourceKind::kFake:
      break;
  }
  return std::make_unique<FakeSource>(spec.label, std::vector<Result<Reading>>{Fail("fake source has no script")});
}

}  // namespace headroom::collect
