// Goal: both CRC32C implementations compute the standard Castagnoli CRC: known vectors
// (RFC 3720 / iSCSI test patterns, "123456789"), agreement on random buffers of every
// length and alignment, and continuation across split buffers.
// Method: fixed vectors, then a seeded stream of random buffers compared across paths.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "moonpool/rpc/crc32c.h"
#include "moonpool/random.h"

namespace moonpool {
namespace {

using rpc::crc32c;
using rpc::crc32cHardware;
using rpc::crc32cHardwareAvailable;
using rpc::crc32cSoftware;

std::span<const std::byte> bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

struct Vector {
  std::vector<std::byte> data;
  std::uint32_t crc;
};

std::vector<Vector> knownVectors() {
  std::vector<Vector> out;
  auto filled = [](std::size_t n, auto byteAt) {
    std::vector<std::byte> data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::byte>(byteAt(i));
    return data;
  };
  // RFC 3720 B.4: 32 bytes of zeros, of ones, ascending, descending.
  out.push_back({filled(32, [](std::size_t) { return 0x00; }), 0x8a9136aa});
  out.push_back({filled(32, [](std::size_t) { return 0xff; }), 0x62a8ab43});
  out.push_back({filled(32, [](std::size_t i) { return i; }), 0x46dd794e});
  out.push_back({filled(32, [](std::size_t i) { return 31 - i; }), 0x113fdb5c});
  std::string_view digits = "123456789";
  out.push_back({std::vector<std::byte>(bytes(digits).begin(), bytes(digits).end()), 0xe3069283});
  out.push_back({{}, 0});
  return out;
}

TEST(Crc32cTest, KnownVectors) {
  for (const Vector& v : knownVectors()) {
    EXPECT_EQ(crc32cSoftware(v.data), v.crc) << "software, " << v.data.size() << " bytes";
    EXPECT_EQ(crc32c(v.data), v.crc) << "dispatching, " << v.data.size() << " bytes";
    if (crc32cHardwareAvailable()) {
      EXPECT_EQ(crc32cHardware(v.data), v.crc) << "hardware, " << v.data.size() << " bytes";
    }
  }
}

TEST(Crc32cTest, PathsAgreeOnRandomBuffersAndContinuationComposes) {
  RandomStream random(deriveSeed(7, "crc32c"));
  std::vector<std::byte> buffer(4096 + 16);
  for (auto& b : buffer) b = static_cast<std::byte>(random.next());
  for (int round = 0; round < 300; ++round) {
    const std::size_t offset = random.below(16);  // misaligned starts
    const std::size_t length = random.below(4096);
    std::span<const std::byte> data(buffer.data() + offset, length);
    const std::uint32_t whole = crc32cSoftware(data);
    if (crc32cHardwareAvailable()) ASSERT_EQ(crc32cHardware(data), whole) << length;
    const std::size_t split = length == 0 ? 0 : random.below(length);
    EXPECT_EQ(crc32c(data.subspan(split), crc32c(data.first(split))), whole)
        << "split " << split << " of " << length;
  }
}

TEST(Crc32cTest, EveryFlippedBitChangesTheCrc) {
  std::vector<std::byte> data(64);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7);
  const std::uint32_t clean = crc32c(data);
  for (std::size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    EXPECT_NE(crc32c(data), clean) << "bit " << bit;
    data[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace moonpool
