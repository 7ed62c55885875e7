#include "core/histogram.h"

#include <zlib.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

namespace headroom {
namespace {

// HdrHistogram V2 cookies. Bits 4..7 carry a word-size hint that readers ignore; writers set 0x10.
constexpr uint32_t kV2CookieBase = 0x1c849303;
constexpr uint32_t kV2CompressedCookieBase = 0x1c849304;
constexpr uint32_t kCookieWordSizeBits = 0x10;
constexpr uint32_t kCookieBaseMask = ~uint32_t{0xf0};
constexpr size_t kV2HeaderBytes = 40;
constexpr size_t kCompressedHeaderBytes = 8;
// A V2 payload never needs more than 9 bytes per count; this caps what a decoder will inflate.
constexpr size_t kMaxInflatedBytes = size_t{256} << 20;

int SubBucketCountMagnitude(int significant_digits) {
  int64_t largest_single_unit = 2;
  for (int i = 0; i < significant_digits; ++i) largest_single_unit *= 10;
  return std::bit_width(static_cast<uint64_t>(largest_single_unit - 1));
}

// ---- byte helpers (big-endian, as the format requires) ----

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}
void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}
uint32_t GetU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t GetU64(const uint8_t* p) { return (uint64_t{GetU32(p)} << 32) | GetU32(p + 4); }

// ZigZag + LEB128 where the 9th byte, if reached, carries a full 8 bits (so 64 bits fit in 9 bytes).
void PutZigZag(std::vector<uint8_t>& out, int64_t signed_value) {
  uint64_t v = (static_cast<uint64_t>(signed_value) << 1) ^ static_cast<uint64_t>(signed_value >> 63);
  for (int i = 0; i < 8; ++i) {
    if (v < 0x80) {
      out.push_back(static_cast<uint8_t>(v));
      return;
    }
    out.push_back(static_cast<uint8_t>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

// Returns false when the input ends inside a number.
bool GetZigZag(const uint8_t*& p, const uint8_t* end, int64_t& out) {
  uint64_t v = 0;
  for (int i = 0; i < 9; ++i) {
    if (p == end) return false;
    const uint8_t b = *p++;
    if (i == 8) {
      v |= uint64_t{b} << 56;
      break;
    }
    v |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) break;
  }
  out = static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  return true;
}

// ---- base64 (RFC 4648, standard alphabet, padded) ----

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(const std::vector<uint8_t>& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t group = uint32_t{in[i]} << 16;
    if (n > 1) group |= uint32_t{in[i + 1]} << 8;
    if (n > 2) group |= uint32_t{in[i + 2]};
    for (size_t k = 0; k < 4; ++k) {
      out += k <= n ? kBase64Alphabet[(group >> (18 - 6 * k)) & 0x3f] : '=';
    }
  }
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Result<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  while (!text.empty() && (text.back() == '=')) text.remove_suffix(1);
  if (text.size() % 4 == 1) return Fail("invalid histogram: base64 text has a bad length");
  std::vector<uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int v = Base64Value(text[i]);
    if (v < 0) return Fail("invalid histogram: character " + std::to_string(i) + " is not base64");
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  return out;
}

Result<std::vector<uint8_t>> Inflate(const uint8_t* data, size_t size) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit(&zs) != Z_OK) return Fail("invalid histogram: cannot start zlib");
  std::vector<uint8_t> out(std::max<size_t>(4096, size * 4));
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = static_cast<uInt>(size);
  int rc = Z_OK;
  while (true) {
    zs.next_out = out.data() + zs.total_out;
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (zs.avail_out != 0) {  // no progress possible: input ended early
      rc = Z_DATA_ERROR;
      break;
    }
    if (out.size() >= kMaxInflatedBytes) break;
    out.resize(std::min(out.size() * 2, kMaxInflatedBytes));
  }
  const size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return Fail("invalid histogram: compressed payload is corrupt or truncated");
  out.resize(produced);
  return out;
}

}  // namespace

Histogram::Histogram(int64_t lowest, int64_t highest, int significant_digits) {
  significant_digits_ = std::clamp(significant_digits, 1, 5);
  const int count_magnitude = SubBucketCountMagnitude(significant_digits_);
  // Keep every shift below 63 bits: lowest's magnitude plus the sub-bucket magnitude must fit.
  const int64_t max_lowest = int64_t{1} << (61 - count_magnitude);
  lowest_ = std::clamp<int64_t>(lowest, 1, max_lowest);
  highest_ = std::clamp<int64_t>(highest, 2 * lowest_, std::numeric_limits<int64_t>::max() / 4);
  unit_magnitude_ = std::bit_width(static_cast<uint64_t>(lowest_)) - 1;
  half_count_magnitude_ = count_magnitude - 1;
  half_count_ = int64_t{1} << half_count_magnitude_;
  sub_bucket_mask_ = ((int64_t{1} << count_magnitude) - 1) << unit_magnitude_;
  leading_zero_base_ = 64 - unit_magnitude_ - count_magnitude;

  int buckets = 1;
  for (int64_t untrackable = int64_t{1} << (count_magnitude + unit_magnitude_); untrackable <= highest_;
       untrackable <<= 1) {
    ++buckets;
  }
  counts_.assign(static_cast<size_t>((buckets + 1) * half_count_), 0);
  min_value_ = std::numeric_limits<int64_t>::max();
  max_value_ = 0;
}

void Histogram::RecordN(int64_t value, int64_t count) {
  if (count <= 0) return;
  const int64_t v = std::clamp(value, lowest_, highest_);
  if (v != value) clamped_ += count;
  counts_[IndexOf(v)] += count;
  total_ += count;
  min_value_ = std::min(min_value_, v);
  max_value_ = std::max(max_value_, v);
}

void Histogram::Add(const Histogram& other) {
  if (other.total_ == 0) return;
  const bool same = lowest_ == other.lowest_ && highest_ == other.highest_ &&
                    significant_digits_ == other.significant_digits_;
  if (!same) {
    // Re-quantize: each bucket of `other` lands in the bucket of its highest equivalent value.
    // Values `other` had clamped stay counted; RecordN counts those this histogram has to clamp.
    other.ForEachBucket([this](int64_t value, int64_t count) { RecordN(value, count); });
    clamped_ += other.clamped_;
    return;
  }
  const size_t first = other.IndexOf(other.min_value_);
  const size_t last = other.IndexOf(other.max_value_);
  for (size_t i = first; i <= last; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  clamped_ += other.clamped_;
  min_value_ = std::min(min_value_, other.min_value_);
  max_value_ = std::max(max_value_, other.max_value_);
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  clamped_ = 0;
  min_value_ = std::numeric_limits<int64_t>::max();
  max_value_ = 0;
}

int64_t Histogram::ValueAtIndex(size_t index) const {
  int bucket = static_cast<int>(index >> half_count_magnitude_) - 1;
  int64_t sub_bucket = static_cast<int64_t>(index & static_cast<size_t>(half_count_ - 1)) + half_count_;
  if (bucket < 0) {
    sub_bucket -= half_count_;
    bucket = 0;
  }
  return sub_bucket << (bucket + unit_magnitude_);
}

int64_t Histogram::LowestEquivalent(int64_t v) const {
  const int bucket = leading_zero_base_ - std::countl_zero(static_cast<uint64_t>(v | sub_bucket_mask_));
  const int shift = bucket + unit_magnitude_;
  return (v >> shift) << shift;
}

int64_t Histogram::HighestEquivalent(int64_t v) const {
  const int bucket = leading_zero_base_ - std::countl_zero(static_cast<uint64_t>(v | sub_bucket_mask_));
  return LowestEquivalent(v) + (int64_t{1} << (bucket + unit_magnitude_)) - 1;
}

// As HdrHistogram's medianEquivalentValue: a bucket of width 1 stands for its own value, a wider
// one for the value half its width above its lowest (rounded down).
int64_t Histogram::MedianEquivalent(int64_t v) const {
  const int bucket = leading_zero_base_ - std::countl_zero(static_cast<uint64_t>(v | sub_bucket_mask_));
  return LowestEquivalent(v) + ((int64_t{1} << (bucket + unit_magnitude_)) >> 1);
}

int64_t Histogram::Min() const {
  if (total_ == 0) return 0;
  return std::clamp(LowestEquivalent(min_value_), lowest_, highest_);
}

int64_t Histogram::Max() const {
  if (total_ == 0) return 0;
  return std::clamp(HighestEquivalent(max_value_), lowest_, highest_);
}

double Histogram::Mean() const {
  if (total_ == 0) return 0;
  double sum = 0;
  ForEachBucket([&](int64_t highest_equivalent, int64_t count) {
    sum += static_cast<double>(MedianEquivalent(highest_equivalent)) * static_cast<double>(count);
  });
  return sum / static_cast<double>(total_);
}

double Histogram::StdDev() const {
  if (total_ == 0) return 0;
  const double mean = Mean();
  double sum_sq = 0;
  ForEachBucket([&](int64_t highest_equivalent, int64_t count) {
    const double deviation = static_cast<double>(MedianEquivalent(highest_equivalent)) - mean;
    sum_sq += deviation * deviation * static_cast<double>(count);
  });
  return std::sqrt(sum_sq / static_cast<double>(total_));
}

int64_t Histogram::ValueAtPercentile(double percentile) const {
  if (total_ == 0) return 0;
  if (!(percentile > 0)) return Min();  // also catches NaN
  if (percentile >= 100) return Max();
  // The relative nudge keeps 99.9% of 1000 at rank 999 despite 0.999 * 1000 rounding up in binary.
  const double exact_rank = percentile / 100.0 * static_cast<double>(total_);
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(exact_rank * (1 - 1e-12))));
  int64_t seen = 0;
  const size_t last = IndexOf(max_value_);
  for (size_t i = IndexOf(min_value_); i <= last; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(HighestEquivalent(ValueAtIndex(i)), highest_);
  }
  return Max();
}

void Histogram::RecomputeMinMax() {
  min_value_ = std::numeric_limits<int64_t>::max();
  max_value_ = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    // Not clamped: foreign encoders may hold counts below lowest (e.g. zeros); iteration must reach them.
    const int64_t v = ValueAtIndex(i);
    min_value_ = std::min(min_value_, v);
    max_value_ = std::max(max_value_, v);
  }
}

std::vector<uint8_t> Histogram::EncodeUncompressed() const {
  std::vector<uint8_t> out;
  out.reserve(kV2HeaderBytes + 64);
  PutU32(out, kV2CookieBase | kCookieWordSizeBits);
  PutU32(out, 0);  // payload length, patched below
  PutU32(out, 0);  // normalizing index offset
  PutU32(out, static_cast<uint32_t>(significant_digits_));
  PutU64(out, static_cast<uint64_t>(lowest_));
  PutU64(out, static_cast<uint64_t>(highest_));
  PutU64(out, std::bit_cast<uint64_t>(1.0));  // integer-to-double conversion ratio
  if (total_ != 0) {
    const size_t end = IndexOf(max_value_) + 1;
    for (size_t i = 0; i < end;) {
      if (counts_[i] != 0) {
        PutZigZag(out, counts_[i++]);
        continue;
      }
      size_t run = 0;
      while (i < end && counts_[i] == 0) ++i, ++run;
      PutZigZag(out, run == 1 ? 0 : -static_cast<int64_t>(run));
    }
  }
  const uint32_t payload = static_cast<uint32_t>(out.size() - kV2HeaderBytes);
  for (int k = 0; k < 4; ++k) out[4 + k] = static_cast<uint8_t>(payload >> (24 - 8 * k));
  return out;
}

std::string Histogram::EncodeCompressedBase64() const {
  const std::vector<uint8_t> raw = EncodeUncompressed();
  uLongf deflated_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> out(kCompressedHeaderBytes + deflated_size);
  // compress2 only fails on out-of-memory or a too-small buffer; compressBound rules out the latter.
  compress2(out.data() + kCompressedHeaderBytes, &deflated_size, raw.data(), static_cast<uLong>(raw.size()),
            Z_DEFAULT_COMPRESSION);
  out.resize(kCompressedHeaderBytes + deflated_size);
  std::vector<uint8_t> header;
  PutU32(header, kV2CompressedCookieBase | kCookieWordSizeBits);
  PutU32(header, static_cast<uint32_t>(deflated_size));
  std::copy(header.begin(), header.end(), out.begin());
  return Base64Encode(out);
}

Result<Histogram> Histogram::DecodeUncompressed(const uint8_t* data, size_t size) {
  if (size < kV2HeaderBytes) return Fail("invalid histogram: V2 header is truncated");
  if ((GetU32(data) & kCookieBaseMask) != kV2CookieBase) return Fail("invalid histogram: bad V2 cookie");
  const uint32_t payload_bytes = GetU32(data + 4);
  const uint32_t normalizing_offset = GetU32(data + 8);
  const uint32_t digits = GetU32(data + 12);
  const int64_t lowest = static_cast<int64_t>(GetU64(data + 16));
  const int64_t highest = static_cast<int64_t>(GetU64(data + 24));
  if (payload_bytes > size - kV2HeaderBytes) return Fail("invalid histogram: payload is truncated");
  if (normalizing_offset != 0) return Fail("invalid histogram: shifted (normalized) histograms are not supported");
  if (digits < 1 || digits > 5) return Fail("invalid histogram: significant digits must be 1..5");
  if (lowest < 1 || lowest > (int64_t{1} << 40) || highest < 2 * lowest ||
      highest > std::numeric_limits<int64_t>::max() / 4) {
    return Fail("invalid histogram: bad value range " + std::to_string(lowest) + ".." + std::to_string(highest));
  }
  Histogram h(lowest, highest, static_cast<int>(digits));
  const uint8_t* p = data + kV2HeaderBytes;
  const uint8_t* end = p + payload_bytes;
  const size_t limit = h.counts_.size();
  size_t index = 0;
  while (p < end) {
    int64_t v = 0;
    if (!GetZigZag(p, end, v)) return Fail("invalid histogram: payload ends inside a count");
    if (v < 0) {  // a run of -v empty buckets
      if (v == std::numeric_limits<int64_t>::min() || static_cast<uint64_t>(-v) > limit - index) {
        return Fail("invalid histogram: counts run past the value range");
      }
      index += static_cast<size_t>(-v);
      continue;
    }
    if (index >= limit) return Fail("invalid histogram: counts run past the value range");
    if (v > std::numeric_limits<int64_t>::max() - h.total_) return Fail("invalid histogram: total count overflows");
    h.counts_[index++] = v;
    h.total_ += v;
  }
  h.RecomputeMinMax();
  return h;
}

Result<Histogram> Histogram::DecodeCompressedBase64(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return Fail("invalid histogram: empty text");
  auto bytes = Base64Decode(text);
  if (!bytes) return std::unexpected(bytes.error());
  if (bytes->size() < 4) return Fail("invalid histogram: too short for a cookie");
  const uint32_t cookie_base = GetU32(bytes->data()) & kCookieBaseMask;
  std::vector<uint8_t> raw;
  if (cookie_base == kV2CompressedCookieBase) {
    if (bytes->size() < kCompressedHeaderBytes) return Fail("invalid histogram: compressed header is truncated");
    const uint32_t length = GetU32(bytes->data() + 4);
    if (length > bytes->size() - kCompressedHeaderBytes) return Fail("invalid histogram: compressed data is truncated");
    auto inflated = Inflate(bytes->data() + kCompressedHeaderBytes, length);
    if (!inflated) return std::unexpected(inflated.error());
    raw = std::move(*inflated);
  } else if (cookie_base == kV2CookieBase) {
    raw = std::move(*bytes);
  } else {
    return Fail("invalid histogram: not an HdrHistogram V2 encoding (unknown cookie)");
  }
  return DecodeUncompressed(raw.data(), raw.size());
}

}  // namespace headroom
