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
// The server parses messages out of a fixed read buffer (watched_message_stream.h), so a
// second test sends valid conversations whose messages are smaller than, near, and far
// larger than that buffer, in one write and in pieces that split them anywhere.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
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

// Texts whose call messages straddle the server's 8 KiB read buffer, and far exceed it.
constexpr std::size_t kBufferBytes = 8192;
constexpr std::size_t kTextBytes[] = {
    0, 100, kBufferBytes - 200, kBufferBytes - 120, kBufferBytes - 96, kBufferBytes,
    kBufferBytes + 64, 3 * kBufferBytes + 5, std::size_t{1} << 20};
// Piece sizes: whole writes, single bytes (every first word split), odd small pieces, and
// pieces of about the buffer's size.
constexpr std::size_t kChunkBytes[] = {0, 1, 7, 61, kBufferBytes - 8, kBufferBytes + 8};
// Single bytes and tiny pieces are kept to the smaller conversations.
constexpr std::size_t kPiecesPerCaseMax = 2000;

TEST(RpcFuzzTest, MessagesOfEverySizeArriveWholeHoweverTheyAreSplit) {
  std::vector<FuzzCase> cases;
  for (std::size_t textBytes : kTextBytes) {
    for (Segments segments : {Segments::kOne, Segments::kMany}) {
      Conversation c;
      c.text = std::string(textBytes, 'm');
      for (std::size_t i = 0; i < textBytes; ++i) c.text[i] = static_cast<char>('a' + i % 26);
      c.messages = {bootstrapMessage(), echoCallMessage(c.text, segments),
                    finishMessage(kBootstrapQuestion), finishMessage(kCallQuestion),
                    releaseMessage()};
      const std::string first = join(c.messages, 0, c.firstPhase);
      for (std::size_t chunk : kChunkBytes) {
        if (chunk != 0 && first.size() / chunk > kPiecesPerCaseMax) continue;
        // Both phases: waiting for the answer between them, and everything at once.
        FuzzCase replied = makeCase("valid, waiting for the answer", first, Ending::kHalfClose,
                                    causeBit(DisconnectCause::kClosed));
        replied.afterReply = join(c.messages, c.firstPhase, c.messages.size());
        replied.echoed = c.text;
        replied.chunkBytes = chunk;
        cases.push_back(replied);
        FuzzCase atOnce = makeCase("valid, written at once", join(c.messages, 0, c.messages.size()),
                                   Ending::kHalfClose, causeBit(DisconnectCause::kClosed));
        atOnce.chunkBytes = chunk;
        cases.push_back(atOnce);
      }
    }
  }
  ASSERT_GT(cases.size(), 100u);
  runFuzz(Framing::kPlain, cases, Causes::kAny);
}

// The call message reframed as `segments` segments: its own, then empty ones.
std::string withEmptySegments(const std::string& oneSegment, std::uint32_t segments) {
  std::string table(kWordBytes * (segments / 2 + 1), '\0');
  storeLe32(table, 0, segments - 1);
  storeLe32(table, 4, loadLe32(oneSegment, 4));
  return table + oneSegment.substr(kFirstWordBytes);
}

TEST(RpcFuzzTest, SegmentTablesAtCapnProtosBoundsAreJudgedAsItJudgesThem) {
  const std::string text = "bounds";
  const std::string call = echoCallMessage(text, Segments::kOne);
  ASSERT_EQ(loadLe32(call, 0), 0u) << "one segment";
  const std::string rest = finishMessage(kBootstrapQuestion) + finishMessage(kCallQuestion) +
                           releaseMessage();
  std::vector<FuzzCase> cases;
  // 511 segments is the most Cap'n Proto reads: answered.
  FuzzCase most = makeCase("511 segments", bootstrapMessage() + withEmptySegments(call, 511),
                           Ending::kHalfClose, causeBit(DisconnectCause::kClosed));
  most.afterReply = rest;
  most.echoed = text;
  cases.push_back(most);
  // 512 is refused from the table, before the body.
  cases.push_back(makeCase("512 segments", bootstrapMessage() + withEmptySegments(call, 512),
                           Ending::kServerHangsUp, causeBit(DisconnectCause::kProtocolError),
                           "segments"));
  // A count of 0xffffffff wraps to no segment at all: a message without a root.
  std::string none(kWordBytes, '\0');
  storeLe32(none, 0, UINT32_MAX);
  storeLe32(none, 4, 1000);  // ignored, as Cap'n Proto ignores it
  cases.push_back(makeCase("no segment", none + bootstrapMessage(), Ending::kHalfClose,
                           causeBit(DisconnectCause::kProtocolError)));
  runFuzz(Framing::kPlain, cases, Causes::kAny);
}

}  // namespace
}  // namespace moonpool
