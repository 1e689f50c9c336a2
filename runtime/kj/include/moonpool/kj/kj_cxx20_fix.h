// Force-included C++20 shim for Cap'n Proto/KJ 0.9 (runtime/ kj layer).
//
// Under C++20 with clang >= 16 (P2468R2 rewritten comparison rules), KJ 0.9 hides its free
// operator==(const char*, StringPtr) behind `#if !__cpp_impl_three_way_comparison`, and
// capnp/blob.h stops compiling. KJ 0.10 fixed this upstream; Debian 12 ships 0.9.2. This
// header restores the two operators. It must be seen before any KJ header, so the build
// passes it with `-include` (moonpool::kj's public compile options).
//
// Note: the body compares through StringPtr's member operator; writing `b == a` would pick
// the reversed candidate and recurse forever.
#pragma once

#if defined(__cplusplus) && defined(__cpp_impl_three_way_comparison)
#include <capnp/common.h>
#include <kj/string.h>
#if CAPNP_VERSION < 10000
namespace kj {
inline bool operator==(const char* a, const StringPtr& b) { return b == StringPtr(a); }
inline bool operator!=(const char* a, const StringPtr& b) { return !(b == StringPtr(a)); }
}  // namespace kj
#endif
#endif
