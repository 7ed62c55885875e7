// Request shapes: ids in paths and values in queries become slots, so /users/1/orders and
// /users/2/orders are one request with {{ randint(1, 2) }} in it.
#include <algorithm>
#include <charconv>

#include "importer/log_model.h"

namespace headroom::importer {
namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool ParseWhole(std::string_view s, int64_t& v) {
  if (s.empty() || s.size() > 18 || s[0] == '-' || s[0] == '+') return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

// A long run of hex digits with at least one digit: object ids, hashes, tokens.
bool IsLongHex(std::string_view s) {
  return s.size() >= 16 && std::all_of(s.begin(), s.end(), IsHex) &&
         std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Piece {
  bool slot = false;
  SlotKind kind = SlotKind::kInt;
  std::string_view text;
};

// Splits a target into literal pieces and slots: id-like path segments, and query values.
std::vector<Piece> Tokenize(std::string_view target) {
  std::vector<Piece> pieces;
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  size_t lit_start = 0, pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(pos, end - pos);
    int64_t v = 0;
    const bool is_int = ParseWhole(seg, v);
    if (is_int || IsUuid(seg) || IsLongHex(seg)) {
      pieces.push_back({false, SlotKind::kInt, target.substr(lit_start, pos - lit_start)});
      pieces.push_back({true, is_int ? SlotKind::kInt : IsUuid(seg) ? SlotKind::kUuid : SlotKind::kHex, seg});
      lit_start = end;
    }
    pos = end + 1;
  }
  if (q != std::string_view::npos) {
    pos = q + 1;
    while (pos <= target.size()) {
      size_t end = target.find('&', pos);
      if (end == std::string_view::npos) end = target.size();
      const size_t eq = target.find('=', pos);
      if (eq != std::string_view::npos && eq < end && eq + 1 < end) {
        pieces.push_back({false, SlotKind::kInt, target.substr(lit_start, eq + 1 - lit_start)});
        pieces.push_back({true, SlotKind::kQueryValue, target.substr(eq + 1, end - eq - 1)});
        lit_start = end;
      }
      pos = end + 1;
    }
  }
  pieces.push_back({false, SlotKind::kInt, target.substr(lit_start)});
  return pieces;
}

void Observe(Slot& slot, std::string_view value, size_t& sample_bytes) {
  int64_t v = 0;
  const bool is_int = ParseWhole(value, v);
  if (slot.kind == SlotKind::kInt || (slot.kind == SlotKind::kQueryValue && is_int && slot.all_int)) {
    slot.min = slot.seen ? std::min(slot.min, v) : v;
    slot.max = slot.seen ? std::max(slot.max, v) : v;
  }
  slot.all_int = slot.all_int && is_int;
  slot.all_uuid = slot.all_uuid && IsUuid(value);
  slot.seen = true;
  if (slot.kind == SlotKind::kInt || slot.kind == SlotKind::kUuid) return;
  if (std::find(slot.samples.begin(), slot.samples.end(), value) != slot.samples.end()) return;
  // The first value is always kept (a shape needs one to be written); later ones within budget.
  if (slot.samples.empty() ||
      (slot.samples.size() < kMaxSamplesPerSlot && sample_bytes + value.size() <= kMaxSampleBytesPerShape)) {
    slot.samples.emplace_back(value);
    sample_bytes += value.size();
  } else {
    slot.more_values = true;
  }
}

// A choice() argument that renders as the value, percent-encoded where a path needs it, and that
// can never hold "}}" (braces are encoded too).
std::string ChoiceArg(std::string_view value) { return QuoteTemplateArg(PercentEncodeUnsafe(value, true)); }

std::string SlotTemplate(const Slot& s) {
  const bool single = s.samples.size() == 1 && !s.more_values;
  if (s.kind == SlotKind::kInt && s.min == s.max) return std::to_string(s.min);  // seen once: as it was
  if (s.kind == SlotKind::kInt || (s.kind == SlotKind::kQueryValue && s.all_int && !single)) {
    return "{{ randint(" + std::to_string(s.min) + ", " + std::to_string(s.max) + ") }}";
  }
  if (s.kind == SlotKind::kUuid || (s.kind == SlotKind::kQueryValue && s.all_uuid && !single)) return "{{ uuid() }}";
  if (single) return EncodePathLiteral(s.samples[0]);
  std::string out = "{{ choice(";
  for (size_t i = 0; i < s.samples.size(); ++i) out += (i == 0 ? "" : ", ") + ChoiceArg(s.samples[i]);
  return out + ") }}";
}

}  // namespace

void ShapeTable::Add(std::string_view method, std::string_view raw_target) {
  // Encoded first, so that no control byte of the input can look like a slot marker of the key.
  const std::string target = PercentEncodeUnsafe(raw_target, false);
  const std::vector<Piece> pieces = Tokenize(target);
  std::string key(method);
  key += ' ';
  for (const Piece& p : pieces) {
    if (p.slot) {
      key += '\x01';
      key += char('0' + int(p.kind));
    } else {
      key += p.text;
    }
  }
  auto [it, inserted] = index_.emplace(std::move(key), shapes_.size());
  if (inserted) {
    Shape s;
    s.method = std::string(method);
    for (const Piece& p : pieces) {
      if (p.slot) {
        s.slots.emplace_back();
        s.slots.back().kind = p.kind;
      } else {
        s.literals.emplace_back(p.text);
      }
    }
    shapes_.push_back(std::move(s));
  }
  Shape& shape = shapes_[it->second];
  ++shape.count;
  size_t slot = 0;
  for (const Piece& p : pieces) {
    if (p.slot) Observe(shape.slots[slot++], p.text, shape.sample_bytes);
  }
  if (shapes_.size() > max_tracked_) Prune();
}

void ShapeTable::Prune() {
  std::vector<size_t> order(shapes_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t keep = max_tracked_ / 2;
  std::nth_element(order.begin(), order.begin() + long(keep), order.end(), [&](size_t a, size_t b) {
    return shapes_[a].count != shapes_[b].count ? shapes_[a].count > shapes_[b].count : a < b;
  });
  std::vector<bool> kept(shapes_.size(), false);
  for (size_t i = 0; i < keep; ++i) kept[order[i]] = true;
  std::vector<Shape> survivors;
  std::vector<size_t> new_pos(shapes_.size(), SIZE_MAX);
  for (size_t i = 0; i < shapes_.size(); ++i) {
    if (kept[i]) {
      new_pos[i] = survivors.size();
      survivors.push_back(std::move(shapes_[i]));
    } else {
      untracked_ += shapes_[i].count;
      ++pruned_shapes_;
    }
  }
  for (auto it = index_.begin(); it != index_.end();) {
    if (new_pos[it->second] == SIZE_MAX) {
      it = index_.erase(it);
    } else {
      it->second = new_pos[it->second];
      ++it;
    }
  }
  shapes_ = std::move(survivors);
}

std::vector<const Shape*> ShapeTable::Ranked() const {
  std::vector<const Shape*> out;
  for (const Shape& s : shapes_) out.push_back(&s);
  std::stable_sort(out.begin(), out.end(), [](const Shape* a, const Shape* b) { return a->count > b->count; });
  return out;
}

std::string ShapePath(const Shape& shape) {
  std::string out = EncodePathLiteral(shape.literals[0]);
  for (size_t i = 0; i < shape.slots.size(); ++i) {
    out += SlotTemplate(shape.slots[i]);
    out += EncodePathLiteral(shape.literals[i + 1]);
  }
  return out;
}

std::string ShapeNameHint(const Shape& shape) {
  std::string hint = shape.method + " ";
  for (size_t i = 0; i < shape.literals.size(); ++i) {
    std::string_view lit = shape.literals[i];
    hint += lit.substr(0, lit.find('?'));
    if (lit.find('?') != std::string_view::npos) break;
    if (i < shape.slots.size()) hint += shape.slots[i].kind == SlotKind::kQueryValue ? "" : " id ";
  }
  return hint;
}

}  // namespace headroom::importer
