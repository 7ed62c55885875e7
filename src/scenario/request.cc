// Compiled requests: encoding the request bytes once, rendering templated parts per send.
#include <algorithm>
#include <charconv>

#include "core/version.h"
#include "scenario/template.h"
#include "scenario/text.h"

namespace headroom::scenario {
namespace {

bool HasHeader(const RequestSpec& r, std::string_view name) {
  for (const Header& h : r.headers) {
    if (EqualsIgnoreCase(h.name, name)) return true;
  }
  return false;
}

bool AllLiteral(const std::vector<TemplatePart>& parts) {
  for (const TemplatePart& p : parts) {
    if (p.kind != TemplatePart::Kind::kLiteral) return false;
  }
  return true;
}

std::string Concat(const std::vector<TemplatePart>& parts) {
  std::string out;
  for (const TemplatePart& p : parts) out += p.text;
  return out;
}

void AppendInt(int64_t v, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, size_t(r.ptr - buf));
}

void AppendUuid(Rng& rng, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint8_t bytes[16];
  uint64_t hi = rng.Next(), lo = rng.Next();
  for (int i = 0; i < 8; ++i) {
    bytes[i] = uint8_t(hi >> (8 * i));
    bytes[8 + i] = uint8_t(lo >> (8 * i));
  }
  bytes[6] = uint8_t((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = uint8_t((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char text[36];
  size_t t = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text[t++] = '-';
    text[t++] = kHex[bytes[i] >> 4];
    text[t++] = kHex[bytes[i] & 0x0F];
  }
  out.append(text, sizeof text);
}

}  // namespace

CompiledRequest::CompiledRequest() = default;
CompiledRequest::~CompiledRequest() = default;
CompiledRequest::CompiledRequest(CompiledRequest&&) noexcept = default;
CompiledRequest& CompiledRequest::operator=(CompiledRequest&&) noexcept = default;

void CompiledRequest::AppendParts(RenderContext& ctx, const std::vector<TemplatePart>& parts,
                                  std::string& out) const {
  for (const TemplatePart& p : parts) {
    switch (p.kind) {
      case TemplatePart::Kind::kLiteral:
        out.append(p.text);
        break;
      case TemplatePart::Kind::kRandInt: {
        const uint64_t span = uint64_t(p.b) - uint64_t(p.a) + 1;  // 0 means the full 64-bit range
        const uint64_t offset = span == 0 ? ctx.rng.Next() : ctx.rng.Below(span);
        AppendInt(int64_t(uint64_t(p.a) + offset), out);
        break;
      }
      case TemplatePart::Kind::kSeq:
        AppendInt(ctx.seq_next[p.id], out);
        ctx.seq_next[p.id] += ctx.worker_count;
        break;
      case TemplatePart::Kind::kUuid:
        AppendUuid(ctx.rng, out);
        break;
      case TemplatePart::Kind::kChoice:
        out.append(p.choices[ctx.rng.Below(p.choices.size())]);
        break;
      case TemplatePart::Kind::kData:
        out.append(tables_[p.id]->Cell(ctx.data_row[p.id], p.column));
        break;
    }
  }
}

void CompiledRequest::RenderInto(RenderContext& ctx, std::string& out) const {
  out.clear();
  if (is_static_) {
    out.append(static_bytes_);
    return;
  }
  for (uint32_t src : sources_) {
    const uint64_t rows = tables_[src]->rows();
    if (orders_[src] == DataOrder::kRandom) {
      ctx.data_row[src] = ctx.rng.Below(rows);
    } else {
      ctx.data_row[src] = ctx.data_cursor[src];
      ctx.data_cursor[src] = ctx.data_cursor[src] + 1 == rows ? 0 : ctx.data_cursor[src] + 1;
    }
  }
  AppendParts(ctx, head_, out);
  if (!dynamic_length_) return;
  const size_t length_at = out.size();
  out.append("\r\n\r\n");
  const size_t body_at = out.size();
  AppendParts(ctx, body_, out);
  char digits[24];
  auto r = std::to_chars(digits, digits + sizeof digits, out.size() - body_at);
  // Within capacity, insert() shifts the body in place: no allocation.
  out.insert(length_at, digits, size_t(r.ptr - digits));
}

Result<std::vector<CompiledRequest>> CompileRequests(const Scenario& scenario, std::string_view host_header,
                                                     std::string_view base_path) {
  std::vector<CompiledRequest> out;
  uint32_t seq_ids = 0;
  while (!base_path.empty() && base_path.back() == '/') base_path.remove_suffix(1);
  for (const RequestSpec& r : scenario.requests) {
    CompiledRequest c;
    c.name_ = r.name;
    c.timeout_ns_ = r.timeout_ns;
    auto fail = [&](const Status& s) { return Fail("request '" + r.name + "': " + s.error().message); };
    AppendLiteral(c.head_, r.method + " " + std::string(base_path));
    if (Status s = CompileTemplate(r.path, scenario.data, seq_ids, c.head_); !s) return fail(s);
    AppendLiteral(c.head_, " HTTP/1.1\r\n");
    if (!HasHeader(r, "Host")) AppendLiteral(c.head_, "Host: " + std::string(host_header) + "\r\n");
    if (!HasHeader(r, "User-Agent")) AppendLiteral(c.head_, "User-Agent: headroom/" HEADROOM_VERSION "\r\n");
    for (const Header& h : r.headers) {
      AppendLiteral(c.head_, h.name + ": ");
      if (Status s = CompileTemplate(h.value, scenario.data, seq_ids, c.head_); !s) return fail(s);
      AppendLiteral(c.head_, "\r\n");
    }
    if (r.body) {
      if (Status s = CompileTemplate(*r.body, scenario.data, seq_ids, c.body_); !s) return fail(s);
    }
    const bool wants_length = r.body.has_value() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
    if (wants_length && AllLiteral(c.body_)) {
      std::string body = Concat(c.body_);
      AppendLiteral(c.head_, "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
      c.body_.clear();
    } else if (wants_length) {
      AppendLiteral(c.head_, "Content-Length: ");
      c.dynamic_length_ = true;
    } else {
      AppendLiteral(c.head_, "\r\n");
    }
    c.is_static_ = !c.dynamic_length_ && AllLiteral(c.head_);
    if (c.is_static_) c.static_bytes_ = Concat(c.head_);
    for (const DataSource& d : scenario.data) {
      c.tables_.push_back(d.table);
      c.orders_.push_back(d.order);
    }
    size_t bytes = 32;  // Content-Length digits and the blank line
    for (const auto* parts : {&c.head_, &c.body_}) {
      for (const TemplatePart& p : *parts) {
        bytes += MaxRenderedBytes(p, scenario.data);
        if (p.kind == TemplatePart::Kind::kData &&
            std::find(c.sources_.begin(), c.sources_.end(), p.id) == c.sources_.end()) {
          c.sources_.push_back(p.id);
        }
      }
    }
    c.capacity_hint_ = bytes;
    out.push_back(std::move(c));
  }
  return out;
}

RenderContext MakeRenderContext(std::span<const CompiledRequest> requests, uint64_t seed, int worker_index,
                                int worker_count) {
  RenderContext ctx;
  ctx.rng = Rng(seed, uint64_t(worker_index));
  ctx.worker_index = worker_index;
  ctx.worker_count = std::max(1, worker_count);
  size_t sources = 0;
  for (const CompiledRequest& r : requests) {
    sources = std::max(sources, r.tables_.size());
    for (const auto* parts : {&r.head_, &r.body_}) {
      for (const TemplatePart& p : *parts) {
        if (p.kind != TemplatePart::Kind::kSeq) continue;
        if (ctx.seq_next.size() <= p.id) ctx.seq_next.resize(p.id + 1);
        ctx.seq_next[p.id] = p.a + worker_index;
      }
    }
  }
  ctx.data_cursor.assign(sources, 0);
  ctx.data_row.assign(sources, 0);
  for (const CompiledRequest& r : requests) {
    for (size_t i = 0; i < r.tables_.size(); ++i) {
      ctx.data_cursor[i] = r.tables_[i]->rows() * uint64_t(worker_index) / uint64_t(ctx.worker_count);
    }
  }
  return ctx;
}

}  // namespace headroom::scenario
