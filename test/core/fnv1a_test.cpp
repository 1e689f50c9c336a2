// Goal: the shared FNV-1a-64 (moonpool/internal/fnv1a.h) is the standard function, byte for
// byte, and hashing in chunks equals hashing at once: build ids, explorer marks, disk fill
// patterns and stream seeds depend on it, so a change would alter every replay.
// Method: published test vectors (including bytes above 0x7f, which must hash as unsigned),
// chunked against whole input, and one pinned derived seed.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "moonpool/internal/fnv1a.h"
#include "moonpool/random.h"

namespace moonpool {
namespace {

using internal::fnv1a;
using internal::kFnv1aOffset;

TEST(Fnv1aTest, MatchesPublishedVectors) {
  EXPECT_EQ(fnv1a(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a("b"), 0xaf63df4c8601f1a5ull);
  EXPECT_EQ(fnv1a("foobar"), 0x85944171f73967e8ull);
  EXPECT_EQ(fnv1a("chongo was here!\n"), 0x46810940eff5f915ull);
}

TEST(Fnv1aTest, BytesAboveSevenBitsHashAsUnsigned) {
  EXPECT_EQ(fnv1a("\xff"), 0xaf64724c8602eb6eull);
  EXPECT_EQ(fnv1a("\x80" "abc"), 0x2c2f36aa16629871ull);
}

TEST(Fnv1aTest, ChunkedEqualsWhole) {
  std::string text;
  for (int i = 0; i < 256; ++i) text.push_back(static_cast<char>(i));
  const std::string_view whole = text;
  for (std::size_t cut = 0; cut <= whole.size(); cut += 17) {
    EXPECT_EQ(fnv1a(whole.substr(cut), fnv1a(whole.substr(0, cut))), fnv1a(whole)) << cut;
  }
  EXPECT_EQ(fnv1a(whole, kFnv1aOffset), 0x4242dc5249c33625ull);
}

TEST(Fnv1aTest, DerivedSeedsArePinned) {
  // deriveSeed = SplitMix64(seed ^ FNV-1a-64(name)): pinned so recorded replays keep working.
  EXPECT_EQ(deriveSeed(42, "swarm"), 0x40cea815b353fa1aull);
}

}  // namespace
}  // namespace moonpool
