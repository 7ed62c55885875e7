// Top level of scenario loading: the document, target, defaults, data, requests, SLOs and
// abort_on_fail. Phases are in phases.cc.
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "scenario/csv.h"
#include "scenario/parser.h"
#include "scenario/template.h"
#include "scenario/text.h"

namespace headroom::scenario {

Result<std::string> ExpandEnv(std::string_view text, std::string_view example_default) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("${", pos);
    if (open == std::string_view::npos) {
      out += text.substr(pos);
      break;
    }
    out += text.substr(pos, open - pos);
    size_t close = text.find('}', open);
    if (close == std::string_view::npos) return Fail("'${' is not closed with '}'");
    std::string_view inner = text.substr(open + 2, close - open - 2);
    std::string_view name = inner;
    std::optional<std::string_view> fallback;
    if (size_t sep = inner.find(":-"); sep != std::string_view::npos) {
      name = inner.substr(0, sep);
      fallback = inner.substr(sep + 2);
    }
    if (!IsIdentifier(name)) return Fail("'${" + std::string(inner) + "}' is not a variable name");
    const char* value = std::getenv(std::string(name).c_str());
    if (value != nullptr && *value != '\0') {
      out += value;
    } else if (fallback) {
      out += *fallback;
    } else {
      return Fail("environment variable " + std::string(name) + " is not set (write ${" + std::string(name) + ":-" +
                  std::string(example_default) + "} to give a default)");
    }
    pos = close + 1;
  }
  return out;
}

namespace {

std::string RequestKeyHint(std::string_view key) {
  if (key == "url") return " (write the scheme and host in 'target' and the rest in 'path')";
  if (key == "json") return " (write the JSON as a string in 'body' and set a Content-Type header)";
  if (key == "check" || key == "checks" || key == "expected") return " (response checks go under 'expect')";
  return "";
}

std::string TopKeyHint(std::string_view key) {
  for (std::string_view k : {"baseline", "ramp", "spike", "soak", "stress", "closed"}) {
    if (key == k) return " (phases go in the list under 'phases')";
  }
  if (key == "thresholds") return " (headroom calls them 'slos')";
  if (key == "scenarios" || key == "flow") return " (the traffic mix goes under 'requests')";
  return "";
}

// The offset of the first NUL byte or invalid UTF-8 sequence, if any.
std::optional<size_t> BinaryAt(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return i;
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || (extra > 0 && i + size_t(extra) >= text.size())) return i;  // bad lead byte or cut short
    for (int k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + size_t(k)]) & 0xC0) != 0x80) return i;
    }
    i += size_t(extra) + 1;
  }
  return std::nullopt;
}

// True when 0-based line `line` of `text` has a tab before its first other character.
bool LineIndentedWithTab(std::string_view text, int line) {
  size_t start = 0;
  for (int n = 0; n < line; ++n) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return false;
    ++start;
  }
  for (size_t i = start; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i) {
    if (text[i] == '\t') return true;
  }
  return false;
}

}  // namespace

void ScenarioParser::Parse(const YAML::Node& root, Scenario& out) {
  if (!root.IsMap()) {
    r_.Error(root, "", root.IsNull() ? "the file is empty; a scenario needs name, target, requests and phases"
                                     : "expected a map of scenario keys (name, target, requests, phases, ...)");
    return;
  }
  if (!Get(root, "requests").IsDefined()) {
    // A capacity plan given to validate or run: say so once instead of listing every key.
    for (const char* key : {"traffic", "workload", "budget", "safety_factor", "engineer_day_cost"}) {
      if (Get(root, key).IsDefined()) {
        r_.Error(root, "", std::string("this is a capacity plan file (it has '") + key +
                               "'), not a scenario: use 'headroom plan FILE' (docs/plan.md)");
        return;
      }
    }
  }
  r_.CheckKeys(root,
               "", {"name", "description", "target", "defaults", "data", "requests", "tiers", "slos", "abort_on_fail",
                    "seed", "phases"},
               TopKeyHint);
  if (r_.Require(root, "", "name", "name: checkout")) {
    if (auto v = r_.String(Get(root, "name"), "name")) out.name = *v;
  }
  if (YAML::Node n = Get(root, "description"); n.IsDefined()) {
    if (auto v = r_.String(n, "description")) out.description = *v;
  }
  if (r_.Require(root, "", "target", "target: http://127.0.0.1:8080")) ParseTarget(Get(root, "target"), out);
  if (YAML::Node n = Get(root, "defaults"); n.IsDefined()) ParseDefaults(n, out.defaults);
  if (YAML::Node n = Get(root, "data"); n.IsDefined()) ParseData(n, out.data);
  if (r_.Require(root, "", "requests", "a list like - { name: home, path: / }")) {
    ParseRequests(Get(root, "requests"), out);
  }
  if (YAML::Node n = Get(root, "tiers"); n.IsDefined()) ParseTiers(n, out.tiers);
  tiers_ = &out.tiers;
  if (YAML::Node n = Get(root, "slos"); n.IsDefined()) ParseSlos(n, "slos", "", out.requests, out.slos);
  if (YAML::Node n = Get(root, "abort_on_fail"); n.IsDefined()) ParseAbort(n, out.abort_on_fail);
  if (YAML::Node n = Get(root, "seed"); n.IsDefined()) {
    if (auto v = r_.Integer(n, "seed", 0)) out.seed = uint64_t(*v);
  }
  if (r_.Require(root, "", "phases", "a list like - { name: warm, baseline: { rate: 200/s, duration: 30s } }")) {
    ParsePhases(Get(root, "phases"), out);
  }
}

void ScenarioParser::ParseTarget(const YAML::Node& node, Scenario& out) {
  const bool overridden = !options_.target.empty();
  auto text = overridden ? std::optional<std::string>(options_.target) : r_.String(node, "target");
  if (!text) return;
  auto expanded = overridden ? Result<std::string>(*text) : ExpandEnv(*text);
  if (!expanded) {
    r_.Error(node, "target", expanded.error().message);
    return;
  }
  const std::string path = overridden ? "target (--target)" : "target";
  std::string_view url = *expanded;
  size_t scheme_end = url.find("://");
  std::string_view scheme = scheme_end == std::string_view::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    r_.Error(node, path, "'" + *expanded + "' is not an http:// or https:// URL");
    return;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.empty() || rest[0] == '/' || rest[0] == ':') {
    r_.Error(node, path, "'" + *expanded + "' has no host");
    return;
  }
  out.target = *expanded;
  target_ = out.target;
}

void ScenarioParser::ParseDefaults(const YAML::Node& node, Defaults& out) {
  if (!r_.ExpectMap(node, "defaults", "{ timeout: 5s }")) return;
  r_.CheckKeys(node, "defaults", {"timeout", "headers", "connections", "arrival", "http", "max_streams"});
  if (YAML::Node n = Get(node, "timeout"); n.IsDefined()) {
    if (auto v = r_.DurationNs(n, "defaults.timeout")) {
      if (*v == 0) r_.Error(n, "defaults.timeout", "must be above 0");
      out.timeout_ns = *v;
    }
  }
  if (YAML::Node n = Get(node, "headers"); n.IsDefined()) ParseHeaders(n, "defaults.headers", out.headers);
  if (YAML::Node n = Get(node, "connections"); n.IsDefined()) {
    if (auto v = r_.Integer(n, "defaults.connections", 1)) out.connections = int(std::min<int64_t>(*v, 1 << 30));
  }
  if (YAML::Node n = Get(node, "arrival"); n.IsDefined()) {
    if (auto v = r_.Enum(n, "defaults.arrival", {"uniform", "poisson"})) out.arrival = Arrival(*v);
  }
  // The HTTP version must suit the target's scheme (the target is parsed first).
  const bool https = target_.starts_with("https://");
  const bool plain = target_.starts_with("http://");
  YAML::Node version = Get(node, "http");
  if (version.IsDefined()) {
    if (auto v = r_.Enum(version, "defaults.http", {"auto", "1.1", "2", "h2c"})) {
      out.http = Defaults::Http(*v);
      if (out.http == Defaults::Http::kHttp2 && plain) {
        r_.Error(version, "defaults.http",
                 "2 needs an https:// target (h2 by ALPN); for cleartext HTTP/2 to an http:// target write h2c");
      } else if (out.http == Defaults::Http::kH2c && https) {
        r_.Error(version, "defaults.http", "h2c is cleartext HTTP/2 for http:// targets; for https:// write 2");
      }
    }
  }
  if (YAML::Node n = Get(node, "max_streams"); n.IsDefined()) {
    if (auto v = r_.Integer(n, "defaults.max_streams", 1)) {
      if (*v > 10'000) {
        r_.Error(n, "defaults.max_streams", "must be at most 10000");
      } else if (out.http == Defaults::Http::kHttp1 || (plain && out.http != Defaults::Http::kH2c)) {
        r_.Error(n, "defaults.max_streams",
                 "applies to HTTP/2 only (an https:// target that chooses h2, http: 2 or http: h2c)");
      } else {
        out.max_streams = int(*v);
      }
    }
  }
}

void ScenarioParser::ParseHeaders(const YAML::Node& node, std::string_view path, std::vector<Header>& out) {
  if (!r_.ExpectMap(node, path, "{ Accept: application/json }")) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    auto name = r_.Scalar(it->first, path, "a header name");
    auto value = r_.Scalar(it->second, path, "a header value");
    if (!name || !value) continue;
    std::string key_path = JoinPath(path, *name);
    bool token = !name->empty();
    for (char c : *name) token = token && IsTokenChar(c);
    if (!token) {
      r_.Error(it->first, path, "'" + *name + "' is not a valid header name");
      continue;
    }
    if (EqualsIgnoreCase(*name, "Content-Length")) {
      r_.Error(it->first, path, "Content-Length is set by headroom from the rendered body; remove it");
      continue;
    }
    if (EqualsIgnoreCase(*name, "Transfer-Encoding")) {
      r_.Error(it->first, path, "Transfer-Encoding is not supported; bodies are sent with Content-Length");
      continue;
    }
    if (value->find_first_of("\r\n") != std::string::npos) {
      r_.Error(it->second, key_path, "a header value must be on one line");
      continue;
    }
    bool replaced = false;
    for (Header& h : out) {
      if (EqualsIgnoreCase(h.name, *name)) {
        h = {*name, *value};
        replaced = true;
      }
    }
    if (!replaced) out.push_back({*name, *value});
  }
}

void ScenarioParser::ParseData(const YAML::Node& node, std::vector<DataSource>& out) {
  if (!r_.ExpectMap(node, "data", "{ users: { file: data/users.csv } }")) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    auto name = r_.Scalar(it->first, "data", "a data source name");
    if (!name) continue;
    std::string path = JoinPath("data", *name);
    bool ok = true;
    if (!IsIdentifier(*name)) {
      r_.Error(it->first, "data", "data source name '" + *name + "' must be letters, digits and '_'");
      ok = false;
    }
    for (std::string_view fn : kTemplateFunctions) {
      if (fn == *name) {
        r_.Error(it->first, "data", "'" + *name + "' is a template function; name the data source differently");
        ok = false;
      }
    }
    const YAML::Node spec = it->second;
    if (!r_.ExpectMap(spec, path, "{ file: data/users.csv, order: random }")) continue;
    r_.CheckKeys(spec, path, {"file", "order"});
    DataSource src;
    src.name = *name;
    src.pos = PosOf(it->first);
    if (YAML::Node n = Get(spec, "order"); n.IsDefined()) {
      if (auto v = r_.Enum(n, JoinPath(path, "order"), {"sequential", "random"})) src.order = DataOrder(*v);
    }
    if (!r_.Require(spec, path, "file", "file: data/users.csv")) continue;
    YAML::Node file_node = Get(spec, "file");
    auto file = r_.String(file_node, JoinPath(path, "file"));
    if (!file) continue;
    src.path = (!file->empty() && (*file)[0] == '/') ? *file : base_dir_ + "/" + *file;
    auto table = LoadCsvFile(src.path, *file);
    if (!table) {
      r_.Error(file_node, JoinPath(path, "file"), table.error().message);
      failed_sources_.push_back(*name);
      continue;
    }
    src.table = std::make_shared<const CsvTable>(std::move(*table));
    if (ok) out.push_back(std::move(src));
  }
}

void ScenarioParser::CheckTemplate(const YAML::Node& node, std::string_view path, const std::string& text,
                                   const std::vector<DataSource>& data) {
  std::vector<TemplatePart> parts;
  uint32_t seq_ids = 0;
  Status s = CompileTemplate(text, data, seq_ids, parts);
  if (s) return;
  for (const std::string& failed : failed_sources_) {
    // The data source itself is already reported; do not add an "unknown source" error.
    if (s.error().message.find("'" + failed + "'") != std::string::npos) return;
  }
  r_.Error(node, path, s.error().message);
}

void ScenarioParser::ParseRequests(const YAML::Node& node, Scenario& out) {
  if (!node.IsSequence()) {
    r_.Error(node, "requests", "expected a list of requests like - { name: home, path: / }");
    return;
  }
  if (node.size() == 0) {
    r_.Error(node, "requests", "needs at least one request");
    return;
  }
  bool weights_ok = true;
  double total = 0;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    std::string path = "requests[" + std::to_string(i) + "]";
    if (item.IsMap()) {
      if (YAML::Node n = Get(item, "name"); n.IsScalar() && IsIdentifier(n.Scalar(), true)) {
        path = "requests." + n.Scalar();
      }
    }
    RequestSpec spec;
    spec.timeout_ns = out.defaults.timeout_ns;
    spec.headers = out.defaults.headers;
    weights_ok = ParseRequest(item, path, out, spec) && weights_ok;
    for (const RequestSpec& earlier : out.requests) {
      if (earlier.name == spec.name) r_.Error(Get(item, "name"), path, "request name '" + spec.name + "' is used twice");
    }
    total += spec.weight;
    out.requests.push_back(std::move(spec));
  }
  if (weights_ok && total <= 0) {
    r_.Error(node, "requests", "the weights add up to 0; give at least one request a weight above 0");
  }
}

bool ScenarioParser::ParseRequest(const YAML::Node& node, std::string_view path, const Scenario& s,
                                  RequestSpec& out) {
  if (!r_.ExpectMap(node, path, "{ name: home, path: / }")) return false;
  r_.CheckKeys(node, path, {"name", "weight", "method", "path", "headers", "body", "timeout", "slos", "expect"},
               RequestKeyHint);
  out.pos = PosOf(node);
  bool weight_ok = true;
  if (r_.Require(node, path, "name", "name: home")) {
    YAML::Node n = Get(node, "name");
    if (auto v = r_.String(n, JoinPath(path, "name"))) {
      if (!IsIdentifier(*v, true)) {
        r_.Error(n, JoinPath(path, "name"), "request name '" + *v + "' must be letters, digits, '_' and '-'");
      }
      out.name = *v;
    }
  }
  if (YAML::Node n = Get(node, "weight"); n.IsDefined()) {
    auto v = r_.NonNegativeNumber(n, JoinPath(path, "weight"));
    weight_ok = v.has_value();
    if (v) out.weight = *v;
  }
  if (YAML::Node n = Get(node, "method"); n.IsDefined()) ParseMethod(n, JoinPath(path, "method"), out);
  if (r_.Require(node, path, "path", "path: /")) ParsePath(Get(node, "path"), JoinPath(path, "path"), s, out);
  if (YAML::Node n = Get(node, "headers"); n.IsDefined()) {
    ParseRequestHeaders(n, JoinPath(path, "headers"), s, out);
  }
  if (YAML::Node n = Get(node, "body"); n.IsDefined()) {
    if (!n.IsScalar()) {
      r_.Error(n, JoinPath(path, "body"),
               "body must be a string; to send JSON, quote it: body: '{\"id\": 1}'");
    } else {
      out.body = n.Scalar();
      CheckTemplate(n, JoinPath(path, "body"), *out.body, s.data);
    }
  }
  if (YAML::Node n = Get(node, "timeout"); n.IsDefined()) {
    if (auto v = r_.DurationNs(n, JoinPath(path, "timeout"))) {
      if (*v == 0) r_.Error(n, JoinPath(path, "timeout"), "must be above 0");
      out.timeout_ns = *v;
    }
  }
  if (YAML::Node n = Get(node, "slos"); n.IsDefined()) {
    ParseSlos(n, JoinPath(path, "slos"), out.name, s.requests, out.slos);
  }
  if (YAML::Node n = Get(node, "expect"); n.IsDefined()) ParseExpect(n, JoinPath(path, "expect"), out);
  return weight_ok;
}

void ScenarioParser::ParseMethod(const YAML::Node& n, std::string_view path, RequestSpec& out) {
  auto v = r_.String(n, path);
  if (!v) return;
  std::string upper = *v;
  for (char& c : upper) c = (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
  bool known = false;
  for (std::string_view m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) known |= m == upper;
  if (!known) {
    r_.Error(n, path,
             "'" + *v + "' is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" +
                 DidYouMean(upper, {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}));
  }
  out.method = upper;
}

void ScenarioParser::ParsePath(const YAML::Node& n, std::string_view path, const Scenario& s, RequestSpec& out) {
  auto v = r_.String(n, path);
  if (!v) return;
  if (v->rfind("http://", 0) == 0 || v->rfind("https://", 0) == 0) {
    r_.Error(n, path, "path '" + *v + "' is a URL; put the scheme and host in 'target'");
  } else if (v->empty() || (*v)[0] != '/') {
    r_.Error(n, path, "path must start with '/', got '" + *v + "'");
  } else if (v->find_first_of(" \t\r\n") != std::string::npos && v->find("{{") == std::string::npos) {
    r_.Error(n, path, "path must not contain spaces; encode them as %20");
  } else {
    CheckTemplate(n, path, *v, s.data);
  }
  out.path = *v;
}

void ScenarioParser::ParseRequestHeaders(const YAML::Node& n, std::string_view path, const Scenario& s,
                                         RequestSpec& out) {
  std::vector<Header> own;
  ParseHeaders(n, path, own);
  // The request's own headers replace defaults of the same name (case-insensitive), in place.
  for (const Header& h : own) {
    bool replaced = false;
    for (Header& d : out.headers) {
      if (EqualsIgnoreCase(d.name, h.name)) {
        d = h;
        replaced = true;
      }
    }
    if (!replaced) out.headers.push_back(h);
  }
  for (auto it = n.begin(); n.IsMap() && it != n.end(); ++it) {
    if (it->second.IsScalar()) CheckTemplate(it->second, JoinPath(path, it->first.Scalar()), it->second.Scalar(), s.data);
  }
}

void ScenarioParser::ParseSlos(const YAML::Node& node, std::string_view path, std::string_view scope,
                               const std::vector<RequestSpec>& requests, std::vector<SloSpec>& out) {
  if (!node.IsSequence()) {
    r_.Error(node, path,
             std::string("expected a list like [ \"p95 < 300ms\", \"error_rate < 0.5%\" ]") +
                 (node.IsScalar() ? ", got a value '" + node.Scalar() + "'" : ""));
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    auto text = r_.Scalar(item, path, "an SLO like \"p95 < 300ms\"");
    if (!text) continue;
    auto objective = slo::ParseObjective(*text);
    if (!objective) {
      r_.Error(item, path, "SLO '" + *text + "': " + objective.error().message);
      continue;
    }
    if (objective->metric == slo::Metric::kTier) {
      if (!scope.empty()) {
        r_.Error(item, path, "SLO '" + *text + "' is on tier " + objective->tier +
                                 "; put it in the top-level or a phase's 'slos', not a request's");
        continue;
      }
      CheckTierSlo(item, path, *text, *objective);
    }
    // "checkout.p95 < 200ms" scopes the objective to one request, which must exist.
    if (!objective->request.empty()) {
      if (!scope.empty() && objective->request != scope) {
        r_.Error(item, path, "this list applies to request '" + std::string(scope) + "' only; remove the '" +
                                 objective->request + ".' prefix");
        continue;
      }
      std::vector<std::string> names;
      bool found = false;
      for (const RequestSpec& r : requests) {
        names.push_back(r.name);
        found = found || r.name == objective->request;
      }
      if (!found && scope.empty()) {
        r_.Error(item, path, "SLO '" + *text + "' names request '" + objective->request + "', which does not exist" +
                                 DidYouMean(objective->request, names));
        continue;
      }
    }
    SloSpec slo;
    slo.request = scope.empty() ? objective->request : std::string(scope);
    slo.text = objective->expr;
    if (!objective->request.empty()) slo.text = slo.text.substr(objective->request.size() + 1);
    while (!slo.text.empty() && slo.text.front() == ' ') slo.text.erase(0, 1);
    slo.objective = std::move(*objective);
    slo.objective.request = slo.request;
    if (!slo.request.empty()) slo.objective.expr = slo.request + "." + slo.text;
    slo.pos = PosOf(item);
    out.push_back(std::move(slo));
  }
}

void ScenarioParser::ParseAbort(const YAML::Node& node, AbortOnFail& out) {
  if (!r_.ExpectMap(node, "abort_on_fail", "{ grace: 30s }")) return;
  r_.CheckKeys(node, "abort_on_fail", {"grace"});
  out.enabled = true;
  if (YAML::Node n = Get(node, "grace"); n.IsDefined()) {
    if (auto v = r_.DurationNs(n, "abort_on_fail.grace")) out.grace_ns = *v;
  }
}

Result<Scenario> LoadScenarioFromString(std::string_view text, const std::string& display_name,
                                        const std::string& base_dir, const LoadOptions& options) {
  Diag diag(display_name);
  if (auto binary = BinaryAt(text)) {
    diag.Add({}, "", "not a text file: binary data at byte " + std::to_string(*binary) +
                         " (a scenario is YAML text, docs/scenario.md)");
    return Fail(diag.Joined());
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports where the parser noticed the problem; its message is one line.
    SourcePos pos;
    std::string hint;
    if (e.mark.line >= 0) {
      pos = {e.mark.line + 1, e.mark.column + 1};
      if (LineIndentedWithTab(text, e.mark.line)) hint = " (the line is indented with a tab: YAML indents with spaces)";
    }
    diag.Add(pos, "", "YAML syntax error: " + e.msg + hint);
    return Fail(diag.Joined());
  }
  Scenario scenario;
  scenario.file = display_name;
  scenario.base_dir = base_dir;
  try {
    ScenarioParser parser(diag, base_dir, options);
    parser.Parse(root, scenario);
  } catch (const YAML::Exception& e) {
    // Defensive: yaml-cpp throws on access patterns the parser should never use.
    diag.Add({}, "", std::string("internal error while reading the YAML: ") + e.what());
  }
  if (!diag.empty()) return Fail(diag.Joined());
  return scenario;
}

Result<Scenario> LoadScenario(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(path + ": cannot read the file: " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  size_t slash = path.rfind('/');
  std::string base_dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  return LoadScenarioFromString(buf.str(), path, base_dir, options);
}

}  // namespace headroom::scenario
