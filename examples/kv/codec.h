// Byte-level encoding of the KV store's log (examples/kv); the network protocol is Cap'n
// Proto RPC (kv_service.h).
//
// Everything is little-endian and length-prefixed; a reader never trusts a length it has
// not bounded first. CRC32C (Castagnoli) guards log records: it detects every
// burst of up to 32 flipped bits, and 32-bit-or-less random corruption otherwise with
// probability 1 - 2^-32. The chained log hash (chainHash) lets two replicas compare whole
// log prefixes by one number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kv_service.h"

namespace moonpool::kv {

// An encoded entry (bounds of user data: kv_service.h): key length, key, version, value length,
// value.
inline constexpr std::size_t kEntryBytesMax = 4 + kKeyBytesMax + 8 + 4 + kValueBytesMax;

using Bytes = std::vector<std::byte>;

// CRC32C of `data`, continuing from `crc` (0 to start).
std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0);

// Appends little-endian fields to a buffer.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}

  void u8(std::uint8_t value);
  void u32(std::uint32_t value);
  void u64(std::uint64_t value);
  // A u32 length, then the bytes.
  void text(std::string_view value);
  void raw(std::span<const std::byte> bytes);

 private:
  Bytes& out_;
};

// Reads little-endian fields; every read is bounds-checked and returns nullopt past the end.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> in) : in_(in) {}

  std::optional<std::uint8_t> u8();
  std::optional<std::uint32_t> u32();
  std::optional<std::uint64_t> u64();
  // A u32 length (rejected above `bytesMax` before anything is copied), then the bytes.
  std::optional<std::string> text(std::size_t bytesMax);

  std::size_t remaining() const { return in_.size() - position_; }

 private:
  std::span<const std::byte> in_;
  std::size_t position_ = 0;
};

void encodeEntry(ByteWriter& out, const Entry& entry);
// Decodes one entry; kInvalidArgument naming the field when it is truncated or too long.
absl::StatusOr<Entry> decodeEntry(ByteReader& in);

// Entry bounds a writer must respect (checked before anything is sent or logged).
bool entryFits(const Entry& entry);

// The hash of an empty log, and the hash of a log after appending a record with `payload`.
inline constexpr std::uint64_t kEmptyLogHash = 0x6b76'2d6c'6f67'0001;  // "kv-log", v1
std::uint64_t chainHash(std::uint64_t previous, std::span<const std::byte> payload);

// Bytes and text views, for records carrying keys and values.
inline std::span<const std::byte> byteView(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

}  // namespace moonpool::kv
