// Goal: no byte sequence a TCP peer can send crashes or wedges the production RpcServer, and
// every connection it drops is reported with the right cause and a non-empty reason. Random
// bytes; real Cap'n Proto RPC messages (bootstrap, call, finish, release, abort) as sent,
// and mutated (bit flips, truncation, segment-count and size-table corruption, huge sizes,
// duplicated or garbled words, replayed messages); with plain framing, and with
// checksummed framing (mutated before the frames are made, after, or not framed at all).
// After every run a well-behaved client still gets its echoes and no connection is left.
// Method: one RpcServer (capnp/rpc.h) serving the test Echo on RealRuntime's executor over
// RealNetworkProvider (127.0.0.1, ephemeral port), and raw TCP connections from the same
// KJ loop. Cases come from a seeded stream, a fixed count per framing (never wall time),
// and run one at a time: write the case's bytes, half-close unless the bytes alone must
// make the server hang up, read until the connection ends. Every wait has a deadline, so a
// wedged server is a failure, not a hung test. The expected cause is exact where the bytes
// decide it (a too-large message is a protocol error, a flipped bit under checksums is
// corruption) and a set where Cap'n Proto's reaction depends on where a mutation landed.
// Runs under ASan+LSan too (the asan preset). About 1 s per framing in Debug.
// One file of about 700 lines: each case generator sits next to the expectation it encodes,
// and the two are what a reader checks together.
#include <capnp/message.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/rpc/checksummed_stream.h"
#include "moonpool/rpc/crc32c.h"
#include "moonpool/real/real_executor.h"
#include "rpc_testing.h"

namespace moonpool {
namespace {

using namespace rpc_testing;
using namespace std::chrono_literals;
using rpc::DisconnectCause;
using rpc::DisconnectReport;
using rpc::Framing;
using RpcMessage = ::capnp::rpc::Message;

// The budget: cases per framing, drawn from one seeded stream each.
constexpr std::size_t kCasesPerFraming = 1000;
constexpr std::uint64_t kSeed = 0x5eed'f022;
// Generous: a case takes milliseconds; only a wedged server reaches it.
constexpr Duration kCaseDeadline = 5s;
constexpr Duration kPollInterval = 1ms;
constexpr std::uint64_t kRandomBytesLog2Max = 11;  // random byte strings: 1 .. 2 KiB
constexpr std::uint64_t kRandomWordsMax = 64;       // words of a random message's segment
constexpr std::size_t kEchoTextBytesMax = 600;
constexpr std::uint64_t kFlipsMax = 8;
// What a case buffers of the server's answer (it answers a few small messages).
constexpr std::size_t kReceivedBytesMax = 1 << 20;
// Cap'n Proto's own bound on segments per message, and our default traversal limit.
constexpr std::uint32_t kSegmentCountRefused = 512;
constexpr std::uint64_t kTraversalLimitWords = 8 * 1024 * 1024;  // the server's, set below
static_assert(kTraversalLimitWords < UINT32_MAX, "a u32 segment size can exceed the limit");
constexpr std::size_t kWordBytes = sizeof(::capnp::word);
constexpr std::size_t kFirstWordBytes = 8;  // segment count - 1, then the first segment size
constexpr std::size_t kFrameHeaderBytes = rpc::ChecksummedStream::kHeaderBytes;

// The conversation every case starts from: question 0 bootstraps, question 1 calls
// echo(text) on the promised bootstrap capability (pipelined), then both questions finish
// and the bootstrap capability (the server's export 0) is released.
constexpr std::uint32_t kBootstrapQuestion = 0;
constexpr std::uint32_t kCallQuestion = 1;
constexpr std::uint32_t kBootstrapExport = 0;

// --- expectations -------------------------------------------------------------------------

using CauseSet = std::uint32_t;
constexpr CauseSet causeBit(DisconnectCause cause) { return 1u << static_cast<unsigned>(cause); }
constexpr CauseSet kAnyCause = (1u << rpc::kDisconnectCauseCount) - 1;
// Plain framing has no checksum, so nothing is ever reported as corrupted.
constexpr CauseSet kAnyPlainCause = kAnyCause & ~causeBit(DisconnectCause::kCorrupted);

// kHalfClose: the bytes could be a prefix of something valid, so the case shuts its writing
// side down and the server sees end of stream. kServerHangsUp: the bytes alone must make the
// server drop the connection; the case keeps its side open.
enum class Ending : std::uint8_t { kHalfClose, kServerHangsUp };

struct FuzzCase {
  std::string kind;
  std::string wire;        // sent first
  std::string afterReply;  // non-empty: sent once the echo answer arrived (valid cases)
  std::string echoed;      // the text the answer must carry, when afterReply is set
  Ending ending = Ending::kHalfClose;
  CauseSet allowed = kAnyCause;
  std::string reasonHas;  // the report's reason contains this ("" = anything non-empty)
};

FuzzCase makeCase(std::string kind, std::string wire, Ending ending, CauseSet allowed,
                  std::string reasonHas = "") {
  FuzzCase out;
  out.kind = std::move(kind);
  out.wire = std::move(wire);
  out.ending = ending;
  out.allowed = allowed;
  out.reasonHas = std::move(reasonHas);
  return out;
}

// --- building and framing messages ------------------------------------------------------

std::string bytesOf(kj::ArrayPtr<const ::capnp::word> words) {
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

std::string encode(::capnp::MessageBuilder& message) {
  return bytesOf(::capnp::messageToFlatArray(message));
}

std::string bootstrapMessage() {
  ::capnp::MallocMessageBuilder message;
  message.initRoot<RpcMessage>().initBootstrap().setQuestionId(kBootstrapQuestion);
  return encode(message);
}

// Small first segments spread the call over many segments (a long segment table).
enum class Segments : std::uint8_t { kOne, kMany };

std::string echoCallMessage(const std::string& text, Segments segments) {
  constexpr unsigned kTinySegmentWords = 4;
  ::capnp::MallocMessageBuilder message(segments == Segments::kMany
                                            ? kTinySegmentWords
                                            : ::capnp::SUGGESTED_FIRST_SEGMENT_WORDS,
                                        segments == Segments::kMany
                                            ? ::capnp::AllocationStrategy::FIXED_SIZE
                                            : ::capnp::AllocationStrategy::GROW_HEURISTICALLY);
  auto call = message.initRoot<RpcMessage>().initCall();
  call.setQuestionId(kCallQuestion);
  call.initTarget().initPromisedAnswer().setQuestionId(kBootstrapQuestion);
  call.setInterfaceId(::capnp::typeId<Echo>());
  call.setMethodId(0);  // echo @0
  auto params = call.initParams();
  params.initContent().initAs<Echo::EchoParams>().setText(text);
  params.initCapTable(0);
  return encode(message);
}

std::string finishMessage(std::uint32_t question) {
  ::capnp::MallocMessageBuilder message;
  auto finish = message.initRoot<RpcMessage>().initFinish();
  finish.setQuestionId(question);
  finish.setReleaseResultCaps(false);  // we imported the bootstrap capability; released below
  return encode(message);
}

std::string releaseMessage() {
  ::capnp::MallocMessageBuilder message;
  auto release = message.initRoot<RpcMessage>().initRelease();
  release.setId(kBootstrapExport);
  release.setReferenceCount(1);
  return encode(message);
}

std::string abortMessage(::capnp::rpc::Exception::Type type, const std::string& reason) {
  ::capnp::MallocMessageBuilder message;
  auto abort = message.initRoot<RpcMessage>().initAbort();
  abort.setType(type);
  abort.setReason(reason);
  return encode(message);
}

// One valid conversation, message by message (so mutations know the boundaries).
struct Conversation {
  std::vector<std::string> messages;
  std::string text;
  std::size_t firstPhase = 2;  // bootstrap + call: what a valid case sends before the answer
};

Conversation conversation(RandomStream& random) {
  Conversation c;
  c.text = std::string(random.below(kEchoTextBytesMax), '\0');
  constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyz";
  for (char& ch : c.text) ch = kLetters[random.below(kLetters.size())];
  const Segments segments = random.below(3) == 0 ? Segments::kMany : Segments::kOne;
  c.messages = {bootstrapMessage(), echoCallMessage(c.text, segments),
                finishMessage(kBootstrapQuestion), finishMessage(kCallQuestion), releaseMessage()};
  return c;
}

std::string join(const std::vector<std::string>& parts, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) out += parts[i];
  return out;
}

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

std::uint32_t loadLe32(const std::string& bytes, std::size_t offset) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<std::uint8_t>(bytes[offset + i]);
  return value;
}

void storeLe32(std::string& bytes, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<char>(value >> (8 * i));
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

// Strips checksummed frames (the server's answer); stops at the first incomplete frame.
std::string unframed(const std::string& wire) {
  std::string out;
  std::size_t at = 0;
  while (wire.size() - at >= kFrameHeaderBytes) {
    const std::uint32_t length = loadLe32(wire, at);
    if (wire.size() - at - kFrameHeaderBytes < length) break;
    out += wire.substr(at + kFrameHeaderBytes, length);
    at += kFrameHeaderBytes + length;
  }
  return out;
}

// The text of the server's Return to kCallQuestion, once `bytes` hold it.
std::optional<std::string> echoAnswer(const std::string& bytes) {
  std::size_t at = 0;
  while (bytes.size() - at >= kFirstWordBytes) {
    kj::Array<::capnp::word> words = kj::heapArray<::capnp::word>((bytes.size() - at) / kWordBytes);
    std::memcpy(words.begin(), bytes.data() + at, words.size() * kWordBytes);
    const std::size_t size = ::capnp::expectedSizeInWordsFromPrefix(words);
    if (size > words.size()) return std::nullopt;
    ::capnp::FlatArrayMessageReader reader(words.slice(0, size));
    auto root = reader.getRoot<RpcMessage>();
    if (root.isReturn() && root.getReturn().getAnswerId() == kCallQuestion &&
        root.getReturn().isResults()) {
      auto results = root.getReturn().getResults().getContent().getAs<Echo::EchoResults>();
      return std::string(results.getText().cStr());
    }
    at += size * kWordBytes;
  }
  return std::nullopt;
}

// --- mutations -----------------------------------------------------------------------------

std::string randomBytes(RandomStream& random, std::size_t size) {
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random.next());
  return bytes;
}

void flipBits(RandomStream& random, std::string& bytes) {
  const std::uint64_t flips = 1 + random.below(kFlipsMax);
  for (std::uint64_t i = 0; i < flips; ++i) {
    bytes[random.below(bytes.size())] ^= static_cast<char>(1u << random.below(8));
  }
}

// Offsets of each message's first byte, plus the end.
std::vector<std::size_t> boundaries(const std::vector<std::string>& messages) {
  std::vector<std::size_t> out{0};
  for (const std::string& m : messages) out.push_back(out.back() + m.size());
  return out;
}

// Cutting a plain stream short: at a message boundary the server sees a clean end; anywhere
// else the stream ended under a read, an I/O error ("Premature EOF" inside a first word).
FuzzCase truncated(RandomStream& random, const Conversation& c) {
  const std::string all = join(c.messages, 0, c.messages.size());
  const std::size_t cut = random.below(all.size());
  const std::vector<std::size_t> starts = boundaries(c.messages);
  const std::size_t start = *(std::upper_bound(starts.begin(), starts.end(), cut) - 1);
  if (cut == start) {
    return makeCase("truncated", all.substr(0, cut), Ending::kHalfClose,
                    causeBit(DisconnectCause::kClosed));
  }
  return makeCase("truncated", all.substr(0, cut), Ending::kHalfClose,
                  causeBit(DisconnectCause::kIoError),
                  cut - start < kFirstWordBytes ? "Premature EOF" : "");
}

// A message whose segment table claims too many segments, or a first segment past the
// traversal limit: refused from its first word, so the server hangs up by itself.
enum class Refusal : std::uint8_t { kTooManySegments, kTooLarge };

FuzzCase refusedFraming(RandomStream& random, const Conversation& c, Refusal refusal) {
  const bool tooLarge = refusal == Refusal::kTooLarge;
  std::vector<std::string> messages = c.messages;
  std::string& victim = messages[random.below(messages.size())];
  if (tooLarge) {
    storeLe32(victim, 4, static_cast<std::uint32_t>(
                             kTraversalLimitWords + 1 +
                             random.below(UINT32_MAX - kTraversalLimitWords)));
  } else {
    storeLe32(victim, 0, static_cast<std::uint32_t>(
                             kSegmentCountRefused + random.below(UINT32_MAX - 1 -
                                                                 kSegmentCountRefused)));
  }
  return makeCase(tooLarge ? "segment size too large" : "too many segments",
                  join(messages, 0, messages.size()), Ending::kServerHangsUp,
                  causeBit(DisconnectCause::kProtocolError), tooLarge ? "too large" : "segments");
}

// Small wrong numbers in a segment table: the rest of the stream parses as something else.
FuzzCase garbledTable(RandomStream& random, const Conversation& c) {
  constexpr std::uint64_t kSmallMax = 64;
  std::vector<std::string> messages = c.messages;
  std::string& victim = messages[random.below(messages.size())];
  const std::uint32_t segments = loadLe32(victim, 0) + 1;
  const std::size_t entry = random.below(segments + 1);  // 0: the count, i > 0: size i - 1
  storeLe32(victim, 4 * entry, static_cast<std::uint32_t>(random.below(kSmallMax)));
  return makeCase("garbled segment table", join(messages, 0, messages.size()),
                  Ending::kHalfClose, kAnyPlainCause);
}

FuzzCase wordEdit(RandomStream& random, const Conversation& c) {
  std::string all = join(c.messages, 0, c.messages.size());
  const std::size_t words = all.size() / kWordBytes;
  const std::size_t at = random.below(words) * kWordBytes;
  const bool duplicate = random.below(2) == 0;
  if (duplicate) {
    all.insert(random.below(words + 1) * kWordBytes, all.substr(at, kWordBytes));
  } else {
    all.replace(at, kWordBytes, randomBytes(random, kWordBytes));
  }
  return makeCase(duplicate ? "duplicated word" : "garbled word", std::move(all),
                  Ending::kHalfClose, kAnyPlainCause);
}

FuzzCase aborted(RandomStream& random, const Conversation& c, std::size_t index) {
  const bool goodbye = random.below(4) == 0;  // DISCONNECTED: a shutdown, not a complaint
  const std::string reason = (goodbye ? "fuzz goodbye " : "fuzz abort ") + std::to_string(index);
  std::vector<std::string> messages(c.messages.begin(),
                                    c.messages.begin() + random.below(c.messages.size() + 1));
  messages.push_back(abortMessage(goodbye ? ::capnp::rpc::Exception::Type::DISCONNECTED
                                          : ::capnp::rpc::Exception::Type::FAILED,
                                  reason));
  return makeCase(goodbye ? "abort (disconnected)" : "abort (failed)",
                  join(messages, 0, messages.size()), Ending::kServerHangsUp,
                  causeBit(goodbye ? DisconnectCause::kClosed : DisconnectCause::kPeerAborted),
                  reason);
}

// --- cases ---------------------------------------------------------------------------------

enum class PlainKind : std::uint8_t {
  kRandomBytes, kValidWithReply, kValidAtOnce, kAbort, kBitFlips, kTruncated,
  kTooManySegments, kTooLarge, kGarbledTable, kWordEdit, kReplayedMessage, kRandomMessage,
};
constexpr std::uint64_t kPlainKinds = static_cast<std::uint64_t>(PlainKind::kRandomMessage) + 1;

// Lengths spread over orders of magnitude, so short strings are common too.
std::size_t randomLength(RandomStream& random) {
  return 1 + random.below(std::uint64_t{1} << (1 + random.below(kRandomBytesLog2Max)));
}

FuzzCase randomBytesCase(RandomStream& random) {
  std::string wire = randomBytes(random, randomLength(random));
  // Fewer than a first word: "Premature EOF" once we half-close. Otherwise the first word
  // decides: a huge segment count is refused at once (UINT32_MAX + 1 wraps to 0 segments).
  if (wire.size() < kFirstWordBytes) {
    return makeCase("random bytes", std::move(wire), Ending::kHalfClose,
                    causeBit(DisconnectCause::kIoError), "Premature EOF");
  }
  const std::uint32_t countMinusOne = loadLe32(wire, 0);
  if (countMinusOne >= kSegmentCountRefused && countMinusOne != UINT32_MAX) {
    return makeCase("random bytes", std::move(wire), Ending::kServerHangsUp,
                    causeBit(DisconnectCause::kProtocolError), "segments");
  }
  return makeCase("random bytes", std::move(wire), Ending::kHalfClose, kAnyPlainCause);
}

// A well-framed one-segment message of random words after a valid prefix: the garbage gets
// past the framing into Cap'n Proto's decoding of RPC messages.
FuzzCase randomMessageCase(RandomStream& random, const Conversation& c) {
  const std::size_t words = 1 + random.below(kRandomWordsMax);
  std::string message(kFirstWordBytes, '\0');
  storeLe32(message, 4, static_cast<std::uint32_t>(words));  // segment count - 1 stays 0
  message += randomBytes(random, words * kWordBytes);
  const std::string prefix = join(c.messages, 0, random.below(c.messages.size() + 1));
  return makeCase("random message", prefix + message, Ending::kHalfClose, kAnyPlainCause);
}

FuzzCase plainCase(RandomStream& random, std::size_t index) {
  const Conversation c = conversation(random);
  const std::string all = join(c.messages, 0, c.messages.size());
  switch (static_cast<PlainKind>(random.below(kPlainKinds))) {
    case PlainKind::kRandomBytes:
      return randomBytesCase(random);
    case PlainKind::kValidWithReply: {
      FuzzCase out = makeCase("valid, waiting for the answer", join(c.messages, 0, c.firstPhase),
                              Ending::kHalfClose, causeBit(DisconnectCause::kClosed));
      out.afterReply = join(c.messages, c.firstPhase, c.messages.size());
      out.echoed = c.text;
      return out;
    }
    case PlainKind::kValidAtOnce:
      return makeCase("valid, written at once", all, Ending::kHalfClose,
                      causeBit(DisconnectCause::kClosed));
    case PlainKind::kAbort:
      return aborted(random, c, index);
    case PlainKind::kBitFlips: {
      FuzzCase out = makeCase("bit flips", all, Ending::kHalfClose, kAnyPlainCause);
      flipBits(random, out.wire);
      return out;
    }
    case PlainKind::kTruncated:
      return truncated(random, c);
    case PlainKind::kTooManySegments:
      return refusedFraming(random, c, Refusal::kTooManySegments);
    case PlainKind::kTooLarge:
      return refusedFraming(random, c, Refusal::kTooLarge);
    case PlainKind::kGarbledTable:
      return garbledTable(random, c);
    case PlainKind::kWordEdit:
      return wordEdit(random, c);
    case PlainKind::kReplayedMessage: {
      // The same question twice, a second Finish or Release: Cap'n Proto refuses it.
      std::vector<std::string> messages = c.messages;
      const std::size_t replayed = random.below(messages.size());
      messages.insert(messages.begin() + replayed + 1, messages[replayed]);
      return makeCase("replayed message", join(messages, 0, messages.size()),
                      Ending::kHalfClose, causeBit(DisconnectCause::kProtocolError));
    }
    case PlainKind::kRandomMessage:
      return randomMessageCase(random, c);
  }
  return {};
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

std::vector<FuzzCase> makeCases(Framing framing) {
  RandomStream random(deriveSeed(kSeed, framing == Framing::kPlain ? "plain" : "checksummed"));
  std::vector<FuzzCase> cases;
  for (std::size_t i = 0; i < kCasesPerFraming; ++i) {
    cases.push_back(framing == Framing::kPlain ? plainCase(random, i) : checksummedCase(random, i));
  }
  return cases;
}

// --- running -------------------------------------------------------------------------------

struct CaseOutcome {
  bool ended = false;  // read end of stream or an error: the connection is over
  std::optional<std::string> answer;
  std::size_t receivedBytes = 0;
  std::optional<DisconnectReport> report;
};

struct FuzzRun {
  Framing framing = Framing::kPlain;
  std::vector<CaseOutcome> outcomes;
  std::vector<DisconnectReport> reports;
  std::vector<std::string> normalAnswers;
  std::size_t openAfter = SIZE_MAX;
  std::uint64_t acceptedAfter = 0;
  std::array<std::uint64_t, rpc::kDisconnectCauseCount> serverCounts{};
  bool stillServing = false;
  EchoStats stats;
};

enum class ReadUntil : std::uint8_t { kEchoAnswer, kEndOfStream };

// Reads until the connection ends, or until the echo answer arrived.
Task<void> readFromServer(Connection& connection, Framing framing, std::string* received,
                          CaseOutcome* outcome, ReadUntil until) {
  std::array<std::byte, 4096> buffer;
  for (;;) {
    IoResult<std::size_t> got = co_await connection.read(buffer);
    if (!got.ok() || *got == 0) {
      outcome->ended = true;
      co_return;
    }
    outcome->receivedBytes += *got;
    if (received->size() < kReceivedBytesMax) {
      received->append(reinterpret_cast<const char*>(buffer.data()), *got);
    }
    if (until == ReadUntil::kEchoAnswer) {
      outcome->answer = echoAnswer(framing == Framing::kPlain ? *received : unframed(*received));
      if (outcome->answer) co_return;
    }
  }
}

Task<void> runCase(NetworkProvider& network, NetAddress server, Framing framing,
                   const FuzzCase* c, CaseOutcome* outcome) {
  std::unique_ptr<Connection> connection = (co_await network.connect(server)).orThrow();
  std::string received;
  // A server that hangs up early makes writes fail (reset, broken pipe): that is fine.
  static_cast<void>(co_await connection->writeAll(asBytes(c->wire)));
  if (!c->afterReply.empty()) {
    co_await readFromServer(*connection, framing, &received, outcome, ReadUntil::kEchoAnswer);
    static_cast<void>(co_await connection->writeAll(asBytes(c->afterReply)));
  }
  if (c->ending == Ending::kHalfClose) static_cast<void>(connection->shutdownWrite());
  co_await readFromServer(*connection, framing, &received, outcome, ReadUntil::kEndOfStream);
}

// The server delivers its report once its side of the connection is torn down, which may
// trail the end of stream we read.
Task<void> awaitReport(TimeProvider& time, const FuzzRun* run, std::size_t count) {
  while (run->reports.size() < count) co_await time.sleep(kPollInterval);
}

Task<void> callNormally(Providers p, NetAddress address, Framing framing, FuzzRun* run) {
  rpc::RpcOptions options;
  options.framing = framing;
  auto client = (co_await rpc::RpcClient::connect(p.network(), address, options)).orThrow();
  Echo::Client echo = client->bootstrap().castAs<Echo>();
  for (const char* text : {"after the fuzz", "", "still serving"}) {
    run->normalAnswers.push_back(co_await callEcho(echo, text));
  }
}

Task<void> awaitNoConnections(TimeProvider& time, const rpc::RpcServer* server) {
  while (server->openConnections() != 0) co_await time.sleep(kPollInterval);
}

Task<void> fuzzMain(Providers p, const std::vector<FuzzCase>* cases, FuzzRun* run) {
  rpc::RpcOptions options;
  options.framing = run->framing;
  options.traversalLimitWords = kTraversalLimitWords;
  options.onDisconnect = [run](const DisconnectReport& r) { run->reports.push_back(r); };
  auto server = rpc::RpcServer::listen(p.network(), NetAddress{kLoopbackIp, 0},
                                         kj::heap<EchoImpl>(p.time(), &run->stats), options)
                    .orThrow();
  const NetAddress address = server->localAddress();
  JoinHandle<void> serving = p.tasks().spawn("serve", server->serve());
  for (const FuzzCase& c : *cases) {
    CaseOutcome& outcome = run->outcomes.emplace_back();
    const std::size_t index = run->outcomes.size() - 1;
    const bool ended = co_await tryWithin(
        p.time(), kCaseDeadline, runCase(p.network(), address, run->framing, &c, &outcome));
    const bool reported = ended && co_await tryWithin(p.time(), kCaseDeadline,
                                                      awaitReport(p.time(), run, index + 1));
    // Wedged: the test fails on this case (later reports would no longer line up).
    if (!reported) break;
    outcome.report = run->reports[index];
  }
  co_await within(p.time(), kCaseDeadline, callNormally(p, address, run->framing, run),
                  "the well-behaved client");
  static_cast<void>(co_await tryWithin(p.time(), kCaseDeadline,
                                       awaitNoConnections(p.time(), server.get())));
  run->openAfter = server->openConnections();
  run->acceptedAfter = server->acceptedConnections();
  for (std::size_t i = 0; i < rpc::kDisconnectCauseCount; ++i) {
    run->serverCounts[i] = server->disconnects(static_cast<DisconnectCause>(i));
  }
  run->stillServing = !serving.done();
  serving.cancel();
}

std::string causeNames(CauseSet set) {
  std::string out;
  for (std::size_t i = 0; i < rpc::kDisconnectCauseCount; ++i) {
    if ((set & (1u << i)) == 0) continue;
    out += (out.empty() ? "" : " | ") +
           std::string(rpc::disconnectCauseName(static_cast<DisconnectCause>(i)));
  }
  return out;
}

void checkCase(const FuzzCase& c, const CaseOutcome& outcome, std::size_t index,
               std::map<std::string, std::size_t>* seen) {
  SCOPED_TRACE("case " + std::to_string(index) + " (" + c.kind + ", " +
               std::to_string(c.wire.size()) + " bytes)");
  ASSERT_TRUE(outcome.ended) << "the connection did not end within the deadline";
  ASSERT_TRUE(outcome.report.has_value()) << "no disconnect report within the deadline";
  const DisconnectReport& report = *outcome.report;
  EXPECT_FALSE(report.reason.empty()) << report.toString();
  EXPECT_NE(c.allowed & causeBit(report.cause), 0u)
      << report.toString() << "; expected " << causeNames(c.allowed);
  EXPECT_NE(report.reason.find(c.reasonHas), std::string::npos)
      << report.toString() << "; expected a reason containing '" << c.reasonHas << "'";
  if (!c.afterReply.empty()) EXPECT_EQ(outcome.answer, c.echoed) << "the echo answer";
  ++(*seen)[c.kind + ": " + std::string(rpc::disconnectCauseName(report.cause))];
}

void runFuzz(Framing framing) {
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = ::testing::TempDir() + "rpc-fuzz",
                                         .localIp = kLoopbackIp});
  const std::vector<FuzzCase> cases = makeCases(framing);
  FuzzRun run;
  run.framing = framing;
  RunOutcome outcome = runtime.run(fuzzMain(runtime.providers(), &cases, &run));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  ASSERT_EQ(run.outcomes.size(), cases.size()) << "a case wedged the server";
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < cases.size(); ++i) checkCase(cases[i], run.outcomes[i], i, &seen);

  EXPECT_EQ(run.normalAnswers,
            (std::vector<std::string>{"after the fuzz", "", "still serving"}));
  EXPECT_TRUE(run.stillServing) << "serve() kept accepting through the fuzz";
  EXPECT_EQ(run.openAfter, 0u) << "connections left open";
  EXPECT_EQ(run.acceptedAfter, cases.size() + 1);
  ASSERT_EQ(run.reports.size(), cases.size() + 1) << "one report per connection";
  EXPECT_EQ(run.reports.back().cause, DisconnectCause::kClosed) << run.reports.back().toString();
  std::array<std::uint64_t, rpc::kDisconnectCauseCount> reported{};
  for (const DisconnectReport& r : run.reports) ++reported[static_cast<std::size_t>(r.cause)];
  EXPECT_EQ(reported, run.serverCounts) << "the server's counters match its reports";
  // The budget reaches every cause the framing can produce.
  for (DisconnectCause cause : {DisconnectCause::kClosed, DisconnectCause::kIoError,
                                DisconnectCause::kProtocolError, DisconnectCause::kPeerAborted}) {
    EXPECT_GT(reported[static_cast<std::size_t>(cause)], 0u) << rpc::disconnectCauseName(cause);
  }
  const std::size_t corrupted = reported[static_cast<std::size_t>(DisconnectCause::kCorrupted)];
  EXPECT_EQ(corrupted > 0, framing == Framing::kChecksummed);
  std::string summary;
  for (const auto& [name, count] : seen) summary += name + " = " + std::to_string(count) + "; ";
  ::testing::Test::RecordProperty("causes by kind", summary);
}

TEST(RpcFuzzTest, PlainFramingSurvivesRandomAndMutatedBytes) { runFuzz(Framing::kPlain); }

TEST(RpcFuzzTest, ChecksummedFramingSurvivesRandomAndMutatedBytes) {
  runFuzz(Framing::kChecksummed);
}

}  // namespace
}  // namespace moonpool
