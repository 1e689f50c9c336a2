// Byte-level encoding of the KV store (see codec.h).
#include "codec.h"

#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace moonpool::kv {
namespace {

// Reflected Castagnoli polynomial.
constexpr std::uint32_t kCrc32cPolynomial = 0x82f6'3b78;

constexpr std::array<std::uint32_t, 256> makeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) != 0 ? kCrc32cPolynomial : 0);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kCrcTable = makeCrcTable();

std::uint64_t mix64(std::uint64_t x) {
  // A 64-bit finalizer (xor-shift-multiply rounds): every input bit affects every output bit.
  x ^= x >> 31;
  x *= 0x7fb5'd329'728e'a185ull;
  x ^= x >> 27;
  x *= 0x81da'def4'bc2d'd44dull;
  x ^= x >> 33;
  return x;
}

}  // namespace

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc) {
  // Raw pointers: this loop runs over every byte sent or logged, also in -O0 test builds.
  const std::uint32_t* table = kCrcTable.data();
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const unsigned char* end = p + data.size();
  crc = ~crc;
  while (p != end) crc = table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

void ByteWriter::u8(std::uint8_t value) { out_.push_back(static_cast<std::byte>(value)); }

void ByteWriter::u32(std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::byte>(value >> (8 * i)));
}

void ByteWriter::u64(std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::byte>(value >> (8 * i)));
}

void ByteWriter::text(std::string_view value) {
  u32(static_cast<std::uint32_t>(value.size()));
  raw(byteView(value));
}

void ByteWriter::raw(std::span<const std::byte> bytes) {
  out_.insert(out_.end(), bytes.begin(), bytes.end());
}

std::optional<std::uint8_t> ByteReader::u8() {
  if (remaining() < 1) return std::nullopt;
  return static_cast<std::uint8_t>(in_[position_++]);
}

std::optional<std::uint32_t> ByteReader::u32() {
  if (remaining() < 4) return std::nullopt;
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(in_[position_++]) << (8 * i);
  return value;
}

std::optional<std::uint64_t> ByteReader::u64() {
  if (remaining() < 8) return std::nullopt;
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>(in_[position_++]) << (8 * i);
  return value;
}

std::optional<std::string> ByteReader::text(std::size_t bytesMax) {
  std::optional<std::uint32_t> length = u32();
  if (!length || *length > bytesMax || *length > remaining()) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(in_.data() + position_), *length);
  position_ += *length;
  return out;
}

void encodeEntry(ByteWriter& out, const Entry& entry) {
  out.text(entry.key);
  out.u64(entry.version);
  out.text(entry.value);
}

absl::StatusOr<Entry> decodeEntry(ByteReader& in) {
  Entry entry;
  std::optional<std::string> key = in.text(kKeyBytesMax);
  if (!key) return absl::InvalidArgumentError("entry key truncated or longer than kKeyBytesMax");
  std::optional<std::uint64_t> version = in.u64();
  if (!version) return absl::InvalidArgumentError("entry version truncated");
  std::optional<std::string> value = in.text(kValueBytesMax);
  if (!value) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry value of key '", *key, "' truncated or longer than kValueBytesMax"));
  }
  entry.key = std::move(*key);
  entry.version = *version;
  entry.value = std::move(*value);
  return entry;
}

bool entryFits(const Entry& entry) {
  return !entry.key.empty() && entry.key.size() <= kKeyBytesMax &&
         entry.value.size() <= kValueBytesMax && entry.version > 0;
}

std::uint64_t chainHash(std::uint64_t previous, std::span<const std::byte> payload) {
  const std::uint64_t record = (std::uint64_t{crc32c(payload)} << 32) | payload.size();
  return mix64(previous ^ mix64(record));
}

}  // namespace moonpool::kv
