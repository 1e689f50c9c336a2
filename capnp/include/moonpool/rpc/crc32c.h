// CRC32C (Castagnoli), for the checksummed framing of RPC streams (capnp/ layer).
//
// Two implementations with identical results: SSE4.2's crc32 instruction (8 bytes per step,
// picked at run time when the CPU has it) and a portable slicing-by-8 table walk. crc32c()
// chooses; the two named variants exist so tests can check each against known vectors.
//
//   std::uint32_t crc = crc32c(bytes);          // whole buffer
//   crc = crc32c(more, crc);                    // continue over a second buffer
//
// Conventions are the usual ones (iSCSI, ext4, LevelDB): reflected polynomial 0x82F63B78,
// initial value and final xor 0xFFFFFFFF, so crc32c("123456789") == 0xE3069283 and
// crc32c("") == 0.
#pragma once

#include <cstdint>
#include <span>

namespace moonpool::rpc {

// CRC32C of `data`, continuing from `crc` (0 to start).
std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0);

// The portable slicing-by-8 implementation.
std::uint32_t crc32cSoftware(std::span<const std::byte> data, std::uint32_t crc = 0);

// Whether this CPU has SSE4.2's crc32 instruction (crc32cHardware may be called).
bool crc32cHardwareAvailable();
// The SSE4.2 implementation. Only when crc32cHardwareAvailable().
std::uint32_t crc32cHardware(std::span<const std::byte> data, std::uint32_t crc = 0);

}  // namespace moonpool::rpc
