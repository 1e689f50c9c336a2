// Goal: no byte sequence a TCP peer can send over checksummed framing crashes or wedges the
// production RpcServer, and every connection it drops is reported with the right cause and a
// non-empty reason: the plain cases framed correctly (the checksum layer is transparent),
// frames mutated or truncated after framing, unframed messages, huge frame lengths and
// random bytes. A flipped bit under checksums is corruption. After the run a well-behaved
// client still gets its echoes and no connection is left. Plain framing is in
// rpc_fuzz_test.cpp; the cases and the runner are shared (rpc_fuzz_cases.h, rpc_fuzz_run.h).
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

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "moonpool/rpc/checksummed_stream.h"
#include "moonpool/rpc/crc32c.h"
#include "rpc_fuzz_cases.h"
#include "rpc_fuzz_run.h"

namespace moonpool {
namespace {

using namespace rpc_fuzz_testing;

// Writes kj::AsyncOutputStream bytes into a string, so the production ChecksummedStream
// writer makes the frames (its writes complete at once: nothing is pending afterwards).
class CaptureStream final : public kj::AsyncIoStream {
 public:
  std::string bytes;

  // implements kj::AsyncInputStream
  kj::Promise<size_t> tryRead(void*, size_t, size_t) override { return size_t{0}; }
  // implements kj::AsyncOutputStream
  kj::Promise<void> write(const void* buffer, size_t size) override {
    bytes.append(static_cast<const char*>(buffer), size);
    return kj::READY_NOW;
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    for (auto piece : pieces) write(piece.begin(), piece.size());
    return kj::READY_NOW;
  }
  kj::Promise<void> whenWriteDisconnected() override { return kj::NEVER_DONE; }
  // implements kj::AsyncIoStream
  void shutdownWrite() override {}
};

// One frame per part, made by ChecksummedStream.
std::string framed(const std::vector<std::string>& parts) {
  CaptureStream capture;
  rpc::ChecksummedStream framer(capture);
  for (const std::string& part : parts) {
    // The capture completes every write at once, so the promise is already settled.
    if (!part.empty()) static_cast<void>(framer.write(part.data(), part.size()));
  }
  return capture.bytes;
}

std::uint32_t crcOf(const std::string& bytes, std::size_t offset, std::size_t size) {
  return rpc::crc32c(std::as_bytes(std::span(bytes.data() + offset, size)));
}

// A frame header whose own CRC is right, announcing `length` payload bytes.
std::string frameHeader(std::uint32_t length, std::uint32_t payloadCrc) {
  std::string header(kFrameHeaderBytes, '\0');
  storeLe32(header, 0, length);
  storeLe32(header, 4, payloadCrc);
  storeLe32(header, 8, crcOf(header, 0, 8));
  return header;
}

enum class ChecksummedKind : std::uint8_t {
  kFramedPlainCase, kFlippedAfterFraming, kTruncatedAfterFraming, kUnframed, kHugeFrame,
  kRandomBytes,
};
constexpr std::uint64_t kChecksummedKinds =
    static_cast<std::uint64_t>(ChecksummedKind::kRandomBytes) + 1;

// A checksummed stream that does not start with a valid header is corruption at once.
FuzzCase badHeader(std::string kind, std::string wire) {
  if (wire.size() < kFrameHeaderBytes) {  // truncated, after our half-close
    return makeCase(std::move(kind), std::move(wire), Ending::kHalfClose,
                    causeBit(DisconnectCause::kIoError), "truncated");
  }
  if (crcOf(wire, 0, 8) != loadLe32(wire, 8)) {
    return makeCase(std::move(kind), std::move(wire), Ending::kServerHangsUp,
                    causeBit(DisconnectCause::kCorrupted), "CRC32C");
  }
  return makeCase(std::move(kind), std::move(wire), Ending::kHalfClose, kAnyCause);  // by chance
}

FuzzCase truncatedFrames(RandomStream& random, const Conversation& c) {
  std::vector<std::string> frames;
  for (const std::string& m : c.messages) frames.push_back(framed({m}));
  const std::string all = join(frames, 0, frames.size());
  const std::size_t cut = random.below(all.size());
  const std::vector<std::size_t> starts = boundaries(frames);
  const bool atBoundary = std::binary_search(starts.begin(), starts.end(), cut);
  return makeCase("truncated after framing", all.substr(0, cut), Ending::kHalfClose,
                  causeBit(atBoundary ? DisconnectCause::kClosed : DisconnectCause::kIoError),
                  atBoundary ? "" : "truncated");
}

FuzzCase checksummedCase(RandomStream& random, std::size_t index) {
  const Conversation c = conversation(random);
  switch (static_cast<ChecksummedKind>(random.below(kChecksummedKinds))) {
    case ChecksummedKind::kFramedPlainCase: {
      // Any plain case, framed correctly: the checksum layer is transparent.
      FuzzCase out = plainCase(random, index);
      out.kind += ", framed";
      out.wire = framed({out.wire});
      out.afterReply = framed({out.afterReply});
      return out;
    }
    case ChecksummedKind::kFlippedAfterFraming: {
      FuzzCase out = makeCase("bit flips after framing", framed(c.messages),
                              Ending::kServerHangsUp, causeBit(DisconnectCause::kCorrupted),
                              "CRC32C");
      flipBits(random, out.wire);
      return out;
    }
    case ChecksummedKind::kTruncatedAfterFraming:
      return truncatedFrames(random, c);
    case ChecksummedKind::kUnframed:
      return badHeader("unframed messages", join(c.messages, 0, c.messages.size()));
    case ChecksummedKind::kHugeFrame: {
      // A well-formed header announcing more than a frame may hold is corruption; one
      // announcing the most a frame may hold waits for bytes that never come.
      const bool tooBig = random.below(2) == 0;
      const std::uint32_t length =
          static_cast<std::uint32_t>(rpc::ChecksummedStream::kFramePayloadMax + (tooBig ? 1 : 0));
      return makeCase(tooBig ? "frame length too large" : "frame longer than the stream",
                      frameHeader(length, 0) + c.messages[0],
                      tooBig ? Ending::kServerHangsUp : Ending::kHalfClose,
                      causeBit(tooBig ? DisconnectCause::kCorrupted : DisconnectCause::kIoError),
                      tooBig ? "frame length" : "truncated");
    }
    case ChecksummedKind::kRandomBytes:
      return badHeader("random bytes", randomBytes(random, randomLength(random)));
  }
  return {};
}

TEST(RpcFuzzTest, ChecksummedFramingSurvivesRandomAndMutatedBytes) {
  std::string error;
  const FuzzBudget budget = fuzzBudget(&error);
  ASSERT_EQ(error, "") << "the fuzz budget's environment variables";
  runFuzz(Framing::kChecksummed, makeCases(budget, "checksummed", checksummedCase));
}

}  // namespace
}  // namespace moonpool
