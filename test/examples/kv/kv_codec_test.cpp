// Goal: the byte-level encoding of the KV log (codec.h) round-trips entries and rejects every
// malformed input with a clear error (never a crash, never a silently accepted value); the
// bounds of the protocol (kv_service.h) are the ones the log enforces.
// Method: CRC32C against its standard check value; encode/decode entries, including the
// largest one; feed truncated and oversized fields and check the error text; check
// entryFits at and past each bound; check the chained hash depends on order and content.
// (The network protocol is Cap'n Proto RPC: its bad inputs are in kv_service_test.)
#include <gtest/gtest.h>

#include <string>

#include "codec.h"

namespace moonpool::kv {
namespace {

Entry entry(std::string key, std::uint64_t version, std::string value) {
  return Entry{std::move(key), version, std::move(value)};
}

Bytes encoded(const Entry& e) {
  Bytes out;
  ByteWriter w(out);
  encodeEntry(w, e);
  return out;
}

void expectError(const absl::StatusOr<Entry>& got, const std::string& text) {
  ASSERT_FALSE(got.ok()) << "accepted a bad entry with key '" << got->key << "'";
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << got.status();
  EXPECT_NE(std::string(got.status().message()).find(text), std::string::npos)
      << "'" << got.status().message() << "' does not mention '" << text << "'";
}

TEST(KvCodec, Crc32cMatchesTheCastagnoliCheckValue) {
  // The standard check value of CRC-32C over "123456789".
  EXPECT_EQ(crc32c(byteView("123456789")), 0xe3069283u);
  EXPECT_EQ(crc32c(byteView("")), 0u);
  // Continuing from a previous CRC equals one pass over the whole.
  EXPECT_EQ(crc32c(byteView("6789"), crc32c(byteView("12345"))), 0xe3069283u);
}

TEST(KvCodec, EntriesRoundTripUpToTheirBounds) {
  const Entry largest = entry(std::string(kKeyBytesMax, 'k'), ~std::uint64_t{0},
                              std::string(kValueBytesMax, 'v'));
  for (const Entry& e : {entry("a", 1, ""), entry("c1/k2", 7, "value"), largest}) {
    const Bytes bytes = encoded(e);
    EXPECT_LE(bytes.size(), kEntryBytesMax);
    ByteReader r(bytes);
    absl::StatusOr<Entry> back = decodeEntry(r);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, e);
    EXPECT_EQ(r.remaining(), 0u);
  }
  EXPECT_EQ(encoded(largest).size(), kEntryBytesMax);
}

TEST(KvCodec, MalformedEntriesAreRejectedWithTheReason) {
  const Bytes good = encoded(entry("key", 5, "value"));
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    Bytes shorter(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    ByteReader r(shorter);
    absl::StatusOr<Entry> got = decodeEntry(r);
    EXPECT_FALSE(got.ok()) << "an entry cut at byte " << cut << " decoded";
  }
  Bytes key = encoded(entry("k", 1, "v"));
  key.resize(2);
  ByteReader keyReader(key);
  expectError(decodeEntry(keyReader), "entry key truncated or longer than kKeyBytesMax");

  Bytes version;
  ByteWriter v(version);
  v.text("k");
  v.u32(7);  // half a version
  ByteReader versionReader(version);
  expectError(decodeEntry(versionReader), "entry version truncated");

  Bytes value;
  ByteWriter w(value);
  w.text("k");
  w.u64(1);
  w.u32(1000);  // a value length, but no bytes follow
  ByteReader valueReader(value);
  expectError(decodeEntry(valueReader), "entry value of key 'k' truncated");
}

TEST(KvCodec, BoundsAreEnforcedBeforeCopying) {
  // A key or value longer than its bound is refused by its length, before any copy.
  const Bytes key = encoded(entry(std::string(kKeyBytesMax + 1, 'k'), 1, ""));
  ByteReader longKey(key);
  expectError(decodeEntry(longKey), "longer than kKeyBytesMax");
  const Bytes value = encoded(entry("k", 1, std::string(kValueBytesMax + 1, 'v')));
  ByteReader longValue(value);
  expectError(decodeEntry(longValue), "longer than kValueBytesMax");
}

TEST(KvCodec, EntryFitsIsExactlyTheProtocolBounds) {
  EXPECT_TRUE(entryFits(entry("k", 1, "")));
  EXPECT_TRUE(
      entryFits(entry(std::string(kKeyBytesMax, 'k'), 1, std::string(kValueBytesMax, 'v'))));
  EXPECT_FALSE(entryFits(entry("", 1, "v"))) << "an empty key";
  EXPECT_FALSE(entryFits(entry("k", 0, "v"))) << "version 0 means 'never written'";
  EXPECT_FALSE(entryFits(entry(std::string(kKeyBytesMax + 1, 'k'), 1, "")));
  EXPECT_FALSE(entryFits(entry("k", 1, std::string(kValueBytesMax + 1, 'v'))));
}

TEST(KvCodec, TheChainedHashCoversOrderAndContent) {
  const std::uint64_t a = chainHash(kEmptyLogHash, byteView("a"));
  const std::uint64_t ab = chainHash(a, byteView("b"));
  const std::uint64_t ba = chainHash(chainHash(kEmptyLogHash, byteView("b")), byteView("a"));
  EXPECT_NE(a, kEmptyLogHash);
  EXPECT_NE(ab, ba);
  EXPECT_EQ(ab, chainHash(chainHash(kEmptyLogHash, byteView("a")), byteView("b")));
  EXPECT_NE(chainHash(kEmptyLogHash, byteView("c")), a);
}

}  // namespace
}  // namespace moonpool::kv
