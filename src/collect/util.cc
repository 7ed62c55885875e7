// Rates from counters, text helpers, and the small blocking HTTP client used for scrapes.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "collect/internal.h"
#include "core/clock.h"
#include "sys/sys.h"

namespace headroom::collect {

double RateTracker::Begin(int64_t now_ns) {
  interval_s_ = last_ns_ == 0 ? 0 : static_cast<double>(now_ns - last_ns_) / 1e9;
  last_ns_ = now_ns;
  ++generation_;
  return interval_s_;
}

std::optional<double> RateTracker::Delta(const std::string& key, double value) {
  auto it = values_.find(key);
  if (it == values_.end()) {
    values_.emplace(key, Entry{value, generation_});
    return std::nullopt;
  }
  const bool fresh = it->second.generation + 1 == generation_;
  const double previous = it->second.value;
  it->second = Entry{value, generation_};
  if (!fresh || interval_s_ <= 0) return std::nullopt;
  return value >= previous ? value - previous : value;  // went down: restarted from zero
}

std::optional<double> RateTracker::DeltaFromZero(const std::string& key, double value) {
  if (interval_s_ > 0 && values_.find(key) == values_.end()) {
    values_.emplace(key, Entry{value, generation_});
    return value;
  }
  return Delta(key, value);
}

std::optional<double> RateTracker::Rate(const std::string& key, double value) {
  auto delta = Delta(key, value);
  if (!delta) return std::nullopt;
  return *delta / interval_s_;
}

void RateTracker::AddRate(std::vector<Metric>& out, const std::string& key, double value) {
  if (auto r = Rate(key, value)) out.push_back(Metric{key, *r, MetricType::kRate});
}

void RateTracker::Reset() {
  values_.clear();
  last_ns_ = 0;
  interval_s_ = 0;
}

void RateTracker::Prune() {
  std::erase_if(values_, [&](const auto& kv) { return kv.second.generation != generation_; });
}

Result<std::string> ReadTextFile(const std::string& path) {
  // procfs files report size 0, so read until EOF rather than by size.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail("cannot read " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Fail("cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::optional<double> ToNumber(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

void KeepTop(std::vector<Activity>& activity, size_t limit) {
  auto key = [](const Activity& a) { return a.counts.empty() ? 0.0 : a.counts[0].value; };
  std::stable_sort(activity.begin(), activity.end(),
                   [&](const Activity& a, const Activity& b) { return key(a) > key(b); });
  if (activity.size() > limit) activity.resize(limit);
}

namespace {

struct UrlParts {
  std::string host;
  uint16_t port = 80;
  std::string target;  // path and query
};

Result<UrlParts> SplitHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return Fail("'" + std::string(url) + "' is not an http:// URL");
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  UrlParts parts;
  parts.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Fail("'" + std::string(url) + "' has an unclosed '['");
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return Fail("'" + std::string(url) + "' has a bad host");
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? "" : authority.substr(colon);
  }
  if (!authority.empty()) {
    unsigned port = 0;
    std::string_view digits = authority.substr(1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || port == 0 || port > 65535) {
      return Fail("'" + std::string(url) + "' has a bad port");
    }
    parts.port = static_cast<uint16_t>(port);
  }
  if (host.empty()) return Fail("'" + std::string(url) + "' has no host");
  parts.host = std::string(host);
  return parts;
}

// Waits for `events` on fd until deadline_ns; false on timeout or error.
bool WaitFd(int fd, short events, int64_t deadline_ns) {
  for (;;) {
    const int64_t left_ns = deadline_ns - MonoNowNs();
    if (left_ns <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left_ns / 1'000'000)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

Result<std::string> DecodeChunked(std::string_view body) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t eol = body.find("\r\n", pos);
    if (eol == std::string_view::npos) return Fail("truncated chunked body");
    std::string_view size_text = body.substr(pos, eol - pos);
    size_text = size_text.substr(0, size_text.find(';'));
    size_t size = 0;
    auto [ptr, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (ec != std::errc() || size_text.empty()) return Fail("bad chunk size in chunked body");
    pos = eol + 2;
    if (size == 0) return out;
    if (body.size() - pos < size + 2) return Fail("truncated chunked body");
    out.append(body.substr(pos, size));
    pos += size + 2;
  }
}

// Reads to EOF within the deadline.
Result<std::string> ReadAll(int fd, int64_t deadline_ns, size_t max_bytes) {
  std::string data;
  char buf[65536];
  for (;;) {
    if (!WaitFd(fd, POLLIN, deadline_ns)) return Fail("no complete answer within the time limit");
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return Fail(std::string("read failed: ") + std::strerror(errno));
    if (n == 0) return data;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_bytes) return Fail("answer larger than " + std::to_string(max_bytes >> 20) + " MiB");
  }
}

Result<std::string> BodyOf(std::string_view response) {
  const size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return Fail("not an HTTP answer (no end of headers)");
  std::string_view head = response.substr(0, head_end);
  std::string_view status_line = head.substr(0, head.find("\r\n"));
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
    return Fail("not an HTTP answer: '" + std::string(status_line.substr(0, 40)) + "'");
  }
  if (status_line.substr(9, 3) != "200") return Fail("HTTP status " + std::string(status_line.substr(9)));
  std::string lower(head);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view body = response.substr(head_end + 4);
  if (lower.find("\r\ntransfer-encoding: chunked") != std::string::npos) return DecodeChunked(body);
  if (lower.find("\r\ncontent-encoding:") != std::string::npos &&
      lower.find("\r\ncontent-encoding: identity") == std::string::npos) {
    return Fail("the answer is compressed, which is not supported");
  }
  return std::string(body);
}

}  // namespace

Result<std::string> HttpGet(std::string_view url, int64_t timeout_ns, size_t max_bytes) {
  auto parts = SplitHttpUrl(url);
  if (!parts) return std::unexpected(parts.error());
  const int64_t deadline_ns = MonoNowNs() + timeout_ns;
  auto address = sys::Resolve(parts->host, parts->port);
  if (!address) return std::unexpected(address.error());
  int fd = ::socket(address->storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Fail(std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address->storage), address->length) != 0 &&
      errno != EINPROGRESS) {
    return Fail("connect to " + address->ToString() + ": " + std::strerror(errno));
  }
  if (!WaitFd(fd, POLLOUT, deadline_ns)) return Fail("connect to " + address->ToString() + ": timed out");
  if (const int err = sys::ConnectResult(fd); err != 0) {
    return Fail("connect to " + address->ToString() + ": " + std::strerror(err));
  }
  const std::string request = "GET " + parts->target + " HTTP/1.0\r\nHost: " + parts->host + ":" +
                              std::to_string(parts->port) +
                              "\r\nAccept: application/openmetrics-text;version=1.0.0;q=0.5,"
                              "text/plain;version=0.0.4;q=0.4\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    if (!WaitFd(fd, POLLOUT, deadline_ns)) return Fail("sending the request timed out");
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return Fail(std::string("send failed: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  auto response = ReadAll(fd, deadline_ns, max_bytes);
  if (!response) return std::unexpected(response.error());
  return BodyOf(*response);
}

}  // namespace headroom::collect
