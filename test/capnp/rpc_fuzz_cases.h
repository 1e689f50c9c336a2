// The fuzz cases of the RpcServer fuzz tests (rpc_fuzz_test.cpp, plain framing;
// rpc_fuzz_checksummed_test.cpp, checksummed framing): the budget, the expected causes,
// valid RPC conversations built message by message, their mutations, and the plain-framing
// cases. Each case generator sits next to the expectation it encodes.
#pragma once

#include <capnp/message.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/rpc/checksummed_stream.h"
#include "rpc_testing.h"

namespace moonpool::rpc_fuzz_testing {

using namespace rpc_testing;
using namespace std::chrono_literals;
using rpc::DisconnectCause;
using rpc::DisconnectReport;
using rpc::Framing;
using RpcMessage = ::capnp::rpc::Message;

// The budget: cases per framing, drawn from one seeded stream each. For long runs both can
// be set from the environment (fuzzBudget below): MOONPOOL_RPC_FUZZ_CASES (a count) and
// MOONPOOL_RPC_FUZZ_SEED (decimal or 0x-prefixed hex).
constexpr std::size_t kCasesPerFraming = 1000;
constexpr std::uint64_t kSeed = 0x5eed'f022;
constexpr std::size_t kCasesPerFramingMax = 10'000'000;
// Generous: a case takes milliseconds; only a wedged server reaches it.
constexpr Duration kCaseDeadline = 5s;
constexpr Duration kPollInterval = 1ms;
constexpr std::uint64_t kRandomBytesLog2Max = 11;  // random byte strings: 1 .. 2 KiB
constexpr std::uint64_t kRandomWordsMax = 64;       // words of a random message's segment
constexpr std::size_t kEchoTextBytesMax = 600;
constexpr std::uint64_t kFlipsMax = 8;
// What a case buffers of the server's answer: a few messages, the largest an echo of up to
// 1 MiB (rpc_fuzz_test.cpp's large texts).
constexpr std::size_t kReceivedBytesMax = 2 << 20;
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
  // Non-zero: the bytes are written in pieces this large, kChunkPause apart, so the server
  // finds messages split at every kind of boundary in what it reads.
  std::size_t chunkBytes = 0;
};
// Long enough to be a timer (a zero sleep never lets the event loop poll the sockets), so
// the server reads each piece before the next is written; short enough to cost nothing.
constexpr Duration kChunkPause = 1us;

inline FuzzCase makeCase(std::string kind, std::string wire, Ending ending, CauseSet allowed,
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

inline std::string bytesOf(kj::ArrayPtr<const ::capnp::word> words) {
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

inline std::string encode(::capnp::MessageBuilder& message) {
  return bytesOf(::capnp::messageToFlatArray(message));
}

inline std::string bootstrapMessage() {
  ::capnp::MallocMessageBuilder message;
  message.initRoot<RpcMessage>().initBootstrap().setQuestionId(kBootstrapQuestion);
  return encode(message);
}

// Small first segments spread the call over many segments (a long segment table).
enum class Segments : std::uint8_t { kOne, kMany };

inline std::string echoCallMessage(const std::string& text, Segments segments) {
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

inline std::string finishMessage(std::uint32_t question) {
  ::capnp::MallocMessageBuilder message;
  auto finish = message.initRoot<RpcMessage>().initFinish();
  finish.setQuestionId(question);
  finish.setReleaseResultCaps(false);  // we imported the bootstrap capability; released below
  return encode(message);
}

inline std::string releaseMessage() {
  ::capnp::MallocMessageBuilder message;
  auto release = message.initRoot<RpcMessage>().initRelease();
  release.setId(kBootstrapExport);
  release.setReferenceCount(1);
  return encode(message);
}

inline std::string abortMessage(::capnp::rpc::Exception::Type type, const std::string& reason) {
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

inline Conversation conversation(RandomStream& random) {
  Conversation c;
  c.text = std::string(random.below(kEchoTextBytesMax), '\0');
  constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyz";
  for (char& ch : c.text) ch = kLetters[random.below(kLetters.size())];
  const Segments segments = random.below(3) == 0 ? Segments::kMany : Segments::kOne;
  c.messages = {bootstrapMessage(), echoCallMessage(c.text, segments),
                finishMessage(kBootstrapQuestion), finishMessage(kCallQuestion), releaseMessage()};
  return c;
}

inline std::string join(const std::vector<std::string>& parts, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) out += parts[i];
  return out;
}

inline std::uint32_t loadLe32(const std::string& bytes, std::size_t offset) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<std::uint8_t>(bytes[offset + i]);
  return value;
}

inline void storeLe32(std::string& bytes, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<char>(value >> (8 * i));
}


// --- mutations -----------------------------------------------------------------------------

inline std::string randomBytes(RandomStream& random, std::size_t size) {
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random.next());
  return bytes;
}

// Flips 1..kFlipsMax distinct bits, so the bytes always differ from the original (two flips
// of one bit would restore it and leave a valid conversation counted as a mutation).
inline void flipBits(RandomStream& random, std::string& bytes) {
  const std::uint64_t bits = std::uint64_t{bytes.size()} * 8;
  const std::uint64_t flips = std::min(1 + random.below(kFlipsMax), bits);
  std::vector<std::uint64_t> chosen;
  while (chosen.size() < flips) {
    const std::uint64_t bit = random.below(bits);
    if (std::find(chosen.begin(), chosen.end(), bit) != chosen.end()) continue;
    chosen.push_back(bit);
    bytes[bit / 8] ^= static_cast<char>(1u << (bit % 8));
  }
}

// Offsets of each message's first byte, plus the end.
inline std::vector<std::size_t> boundaries(const std::vector<std::string>& messages) {
  std::vector<std::size_t> out{0};
  for (const std::string& m : messages) out.push_back(out.back() + m.size());
  return out;
}

// Cutting a plain stream short: at a message boundary the server sees a clean end; anywhere
// else the stream ended under a read, an I/O error ("Premature EOF" inside a first word).
inline FuzzCase truncated(RandomStream& random, const Conversation& c) {
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

inline FuzzCase refusedFraming(RandomStream& random, const Conversation& c, Refusal refusal) {
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
inline FuzzCase garbledTable(RandomStream& random, const Conversation& c) {
  constexpr std::uint64_t kSmallMax = 64;
  std::vector<std::string> messages = c.messages;
  std::string& victim = messages[random.below(messages.size())];
  const std::uint32_t segments = loadLe32(victim, 0) + 1;
  const std::size_t entry = random.below(segments + 1);  // 0: the count, i > 0: size i - 1
  storeLe32(victim, 4 * entry, static_cast<std::uint32_t>(random.below(kSmallMax)));
  return makeCase("garbled segment table", join(messages, 0, messages.size()),
                  Ending::kHalfClose, kAnyPlainCause);
}

inline FuzzCase wordEdit(RandomStream& random, const Conversation& c) {
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

inline FuzzCase aborted(RandomStream& random, const Conversation& c, std::size_t index) {
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
inline std::size_t randomLength(RandomStream& random) {
  return 1 + random.below(std::uint64_t{1} << (1 + random.below(kRandomBytesLog2Max)));
}

inline FuzzCase randomBytesCase(RandomStream& random) {
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
inline FuzzCase randomMessageCase(RandomStream& random, const Conversation& c) {
  const std::size_t words = 1 + random.below(kRandomWordsMax);
  std::string message(kFirstWordBytes, '\0');
  storeLe32(message, 4, static_cast<std::uint32_t>(words));  // segment count - 1 stays 0
  message += randomBytes(random, words * kWordBytes);
  const std::string prefix = join(c.messages, 0, random.below(c.messages.size() + 1));
  return makeCase("random message", prefix + message, Ending::kHalfClose, kAnyPlainCause);
}

inline FuzzCase plainCase(RandomStream& random, std::size_t index) {
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

struct FuzzBudget {
  std::size_t cases = kCasesPerFraming;
  std::uint64_t seed = kSeed;
};

// An unsigned number from the environment variable `name` (decimal, or hex after "0x"),
// `fallback` when unset; an error naming the variable when the text is not a number.
inline std::uint64_t numberFromEnvironment(const char* name, std::uint64_t fallback,
                                           std::string* error) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  std::string_view view(text);
  int base = 10;
  if (view.size() > 2 && view[0] == '0' && (view[1] == 'x' || view[1] == 'X')) {
    view.remove_prefix(2);
    base = 16;
  }
  std::uint64_t value = 0;
  const auto [end, code] = std::from_chars(view.data(), view.data() + view.size(), value, base);
  if (view.empty() || code != std::errc() || end != view.data() + view.size()) {
    *error = std::string(name) + "='" + text + "' is not an unsigned number";
    return fallback;
  }
  return value;
}

// The budget, with MOONPOOL_RPC_FUZZ_CASES / MOONPOOL_RPC_FUZZ_SEED applied; `error` says
// what was wrong with them (then the defaults stay).
inline FuzzBudget fuzzBudget(std::string* error) {
  FuzzBudget budget;
  budget.cases = numberFromEnvironment("MOONPOOL_RPC_FUZZ_CASES", kCasesPerFraming, error);
  budget.seed = numberFromEnvironment("MOONPOOL_RPC_FUZZ_SEED", kSeed, error);
  if (budget.cases == 0 || budget.cases > kCasesPerFramingMax) {
    *error = "MOONPOOL_RPC_FUZZ_CASES must be in [1, " + std::to_string(kCasesPerFramingMax) + "]";
    budget.cases = kCasesPerFraming;
  }
  return budget;
}

// budget.cases cases from `makeOne(random, index)`, drawn from a stream derived from
// budget.seed and `streamName`, so each framing's cases are fixed and independent of the
// other's.
template <typename MakeOne>
std::vector<FuzzCase> makeCases(const FuzzBudget& budget, std::string_view streamName,
                                MakeOne makeOne) {
  RandomStream random(deriveSeed(budget.seed, streamName));
  std::vector<FuzzCase> cases;
  for (std::size_t i = 0; i < budget.cases; ++i) cases.push_back(makeOne(random, i));
  return cases;
}

}  // namespace moonpool::rpc_fuzz_testing
