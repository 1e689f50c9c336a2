// FNV-1a-64: the one implementation (core layer; internal, shared by the runtime libraries).
//
// Its outputs must stay bit-identical across versions: they derive named random streams
// (random.h deriveSeed), the runner's fallback build id and the explorer's discovery marks,
// and the simulated disks' fill patterns. Changing it changes every recorded replay.
// The explorer (a libc-only leaf) must not include it.
//
// Incremental: fnv1a(b, fnv1a(a)) == fnv1a(a + b), so a stream can be hashed in chunks.
#pragma once

#include <cstdint>
#include <string_view>

namespace moonpool::internal {

inline constexpr std::uint64_t kFnv1aOffset = 0xcbf29ce484222325ull;  // offset basis
inline constexpr std::uint64_t kFnv1aPrime = 0x100000001b3ull;        // 2^40 + 2^8 + 0xb3

// Folds `bytes` into `hash` (start from kFnv1aOffset, the default).
constexpr std::uint64_t fnv1a(std::string_view bytes, std::uint64_t hash = kFnv1aOffset) {
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnv1aPrime;
  }
  return hash;
}

// The published FNV-1a-64 test vectors (test/core/fnv1a_test.cpp checks more).
static_assert(fnv1a("") == kFnv1aOffset);
static_assert(fnv1a("a") == 0xaf63dc4c8601ec8cull);
static_assert(fnv1a("bar", fnv1a("foo")) == fnv1a("foobar"));

}  // namespace moonpool::internal
