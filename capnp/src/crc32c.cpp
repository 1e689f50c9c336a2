// CRC32C: slicing-by-8 tables and the SSE4.2 instruction path (see crc32c.h).
//
// The hardware path is compiled with a function-level target attribute, so the library
// itself needs no -msse4.2 and still runs on CPUs without it (the software path is used).
#include "moonpool/rpc/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace moonpool::rpc {

namespace {

constexpr std::uint32_t kPolynomial = 0x82f6'3b78;  // reflected Castagnoli
constexpr std::size_t kSlices = 8;
constexpr std::size_t kTableSize = 256;

using Tables = std::array<std::array<std::uint32_t, kTableSize>, kSlices>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC of byte b followed
// by k zero bytes, which is what lets eight input bytes be folded in one step.
constexpr Tables makeTables() {
  Tables tables{};
  for (std::uint32_t i = 0; i < kTableSize; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) != 0 ? kPolynomial : 0);
    tables[0][i] = crc;
  }
  for (std::size_t k = 1; k < kSlices; ++k) {
    for (std::size_t i = 0; i < kTableSize; ++i) {
      const std::uint32_t prev = tables[k - 1][i];
      tables[k][i] = (prev >> 8) ^ tables[0][prev & 0xffu];
    }
  }
  return tables;
}

constexpr Tables kTables = makeTables();
static_assert(kTables[0][128] == kPolynomial && kTables[0][1] == 0xf26b'8303,
              "table 0 is the reflected Castagnoli table");

std::uint32_t loadLe32(const unsigned char* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

}  // namespace

std::uint32_t crc32cSoftware(std::span<const std::byte> data, std::uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  crc = ~crc;
  for (; n >= kSlices; n -= kSlices, p += kSlices) {
    const std::uint32_t lo = loadLe32(p) ^ crc;
    const std::uint32_t hi = loadLe32(p + 4);
    crc = kTables[7][lo & 0xffu] ^ kTables[6][(lo >> 8) & 0xffu] ^
          kTables[5][(lo >> 16) & 0xffu] ^ kTables[4][lo >> 24] ^ kTables[3][hi & 0xffu] ^
          kTables[2][(hi >> 8) & 0xffu] ^ kTables[1][(hi >> 16) & 0xffu] ^ kTables[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) crc = kTables[0][(crc ^ *p) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__)

bool crc32cHardwareAvailable() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}

__attribute__((target("sse4.2"))) std::uint32_t crc32cHardware(std::span<const std::byte> data,
                                                                std::uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  std::uint64_t state = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    state = _mm_crc32_u64(state, word);
  }
  auto narrow = static_cast<std::uint32_t>(state);
  for (; n > 0; --n, ++p) narrow = _mm_crc32_u8(narrow, *p);
  return ~narrow;
}

#else

bool crc32cHardwareAvailable() { return false; }

std::uint32_t crc32cHardware(std::span<const std::byte> data, std::uint32_t crc) {
  return crc32cSoftware(data, crc);
}

#endif

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc) {
  return crc32cHardwareAvailable() ? crc32cHardware(data, crc) : crc32cSoftware(data, crc);
}

}  // namespace moonpool::rpc
