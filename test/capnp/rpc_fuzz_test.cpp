// Goal: no byte sequence a TCP peer can send over plain framing crashes or wedges the
// production RpcServer, and every connection it drops is reported with the right cause and a
// non-empty reason. Random bytes; real Cap'n Proto RPC messages (bootstrap, call, finish,
// release, abort) as sent, and mutated (bit flips, truncation, segment-count and size-table
// corruption, huge sizes, duplicated or garbled words, replayed messages). After the run a
// well-behaved client still gets its echoes and no connection is left. Checksummed framing
// is in rpc_fuzz_checksummed_test.cpp.
// Method: one RpcServer (two_party.h) serving the test Echo on RealRuntime's executor over
// RealNetworkProvider (127.0.0.1, ephemeral port), and raw TCP connections from the same
// KJ loop. Cases come from a seeded stream, a fixed count per framing (never wall time),
// and run one at a time: write the case's bytes, half-close unless the bytes alone must
// make the server hang up, read until the connection ends. Every wait has a deadline, so a
// wedged server is a failure, not a hung test. The expected cause is exact where the bytes
// decide it (a too-large message is a protocol error, a flipped bit under checksums is
// corruption) and a set where Cap'n Proto's reaction depends on where a mutation landed.
// Runs under ASan+LSan too (the asan preset). About 1 s per framing in Debug.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "rpc_fuzz_cases.h"
#include "rpc_fuzz_run.h"

namespace moonpool {
namespace {

using namespace rpc_fuzz_testing;

TEST(RpcFuzzTest, PlainFramingSurvivesRandomAndMutatedBytes) {
  std::string error;
  const FuzzBudget budget = fuzzBudget(&error);
  ASSERT_EQ(error, "") << "the fuzz budget's environment variables";
  runFuzz(Framing::kPlain, makeCases(budget, "plain", plainCase));
}

}  // namespace
}  // namespace moonpool
