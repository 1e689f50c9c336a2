// The message stream under one RPC connection (see watched_message_stream.h).
#include "watched_message_stream.h"

#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>
#include <kj/debug.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>

#include "moonpool/check.h"

namespace moonpool::rpc::internal {

namespace {

using ::capnp::rpc::Message;

// Reads at least this large can be failed by a budget eviction (readCancellable_ in the
// header says why smaller ones are not).
constexpr std::size_t kCancellableReadBytes = 4096;

// The read buffer of every connection, in words (8 KiB): one read takes whatever has
// arrived up to this, so a burst of small messages costs one system call rather than
// three per message (first word, body, and the read that finds the socket empty).
// Messages larger than the buffer get an array of their own. A fixed cost per
// connection, bounded by connectionsMax.
constexpr std::size_t kReadBufferWords = 1024;
constexpr std::size_t kWordBytes = sizeof(::capnp::word);
// Cap'n Proto's own bound on a message's segments: more is refused from the first word.
constexpr std::uint32_t kSegmentsMax = 511;

std::uint32_t loadLe32(const kj::byte* at) {
  std::uint32_t value = 0;  // little-endian on the wire, as on every host capnp supports
  std::memcpy(&value, at, sizeof value);
  return value;
}

// A message read into an array of its own: the segment table, then the segments.
struct OwnedWords {
  kj::Array<::capnp::word> words;
};
class OwnedFlatMessage final : private OwnedWords, public ::capnp::FlatArrayMessageReader {
 public:
  OwnedFlatMessage(kj::Array<::capnp::word> all, const ::capnp::ReaderOptions& options)
      : OwnedWords{kj::mv(all)}, FlatArrayMessageReader(words, options) {}
};

std::string describe(const kj::Exception& error) {
  return std::string(error.getDescription().cStr());
}

// An Abort carrying DISCONNECTED is a shutdown ("RpcSystem was destroyed", a failed
// stream); any other type blames the other side's bytes.
bool isShutdown(::capnp::rpc::Exception::Reader abort) {
  return abort.getType() == ::capnp::rpc::Exception::Type::DISCONNECTED;
}

// The kind of an rpc::Message (its union discriminant: the first 16 bits of the root
// struct's data section) read from its first segment without building a reader, which
// validates far more than this needs (measured: getRoot per message was ~1,000 of ~115,000
// instructions per echo call). Null when the root is not a plain struct pointer into the
// first segment (a far pointer, bad bytes): the caller then builds a reader.
std::optional<Message::Which> peekKind(kj::ArrayPtr<const ::capnp::word> segment) {
  if (segment.size() == 0) return std::nullopt;
  std::uint64_t root = 0;
  std::memcpy(&root, segment.begin(), sizeof root);
  if ((root & 3) != 0) return std::nullopt;  // not a struct pointer (or a far one)
  // Bits 2..31: the signed offset in words from the end of the pointer to the struct.
  const std::int32_t low = static_cast<std::int32_t>(root & 0xffff'ffffu);
  const std::int64_t offset = low >> 2;  // arithmetic shift: keeps the sign
  const std::uint64_t dataWords = (root >> 32) & 0xffff;
  if (root == 0 || dataWords == 0) return Message::UNIMPLEMENTED;  // null or all defaults
  const std::int64_t start = 1 + offset;
  if (start < 1 || start >= static_cast<std::int64_t>(segment.size())) return std::nullopt;
  std::uint16_t which = 0;  // little-endian on the wire, as on every host capnp supports
  std::memcpy(&which, segment.begin() + start, sizeof which);
  return static_cast<Message::Which>(which);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// WatchedMessageStream

WatchedMessageStream::WatchedMessageStream(kj::AsyncIoStream& stream, StreamLimits limits)
    : limits_(std::move(limits)),
      holderId_(limits_.budget->nextHolder++),
      stream_(stream),
      inner_(stream),
      readBuffer_(kj::heapArray<::capnp::word>(kReadBufferWords)),
      // A failed write ends the connection as surely as a failed read; noting it here lets
      // RpcConnection::ended() say so before Cap'n Proto fails the calls on it.
      writer_(
          stream,
          [this](const kj::Exception& error) {
            record(DisconnectCause::kIoError, describe(error));
            // Cap'n Proto heard nothing (its messages were reported written when copied) and
            // may wait on a read forever: whoever owns the connection ends it.
            KJ_IF_MAYBE(react, onWriteFailure_) { (*react)(); }
          },
          [this]() { outgoingWritten(); }) {
  MOONPOOL_CHECK_GT(limits_.callsInFlightMax, 0u, "validated by validateRpcOptions");
  MOONPOOL_CHECK_GT(limits_.incomingBytesMax, 0u, "validated by validateRpcOptions");
  limits_.budget->holders.emplace(holderId_, this);
}

WatchedMessageStream::~WatchedMessageStream() noexcept(false) {
  limits_.budget->holders.erase(holderId_);
  releaseIncoming();
  MOONPOOL_CHECK_GE(limits_.budget->outgoingBytes, outgoingHeld_, "outgoing budget underflow");
  limits_.budget->outgoingBytes -= outgoingHeld_;
}

void WatchedMessageStream::evictForBudget(std::string reason) {
  readCancellable_ = false;
  limitReached(reason);
  releaseIncoming();
  reading_.cancel(kj::Exception(kj::Exception::Type::OVERLOADED, __FILE__, __LINE__,
                                kj::str(reason.c_str())));
}

bool WatchedMessageStream::makeRoom(std::size_t bytes) {
  RpcBudget& budget = *limits_.budget;
  while (budget.incomingBytes + bytes > budget.incomingBytesMax) {
    WatchedMessageStream* largest = nullptr;
    for (const auto& [id, holder] : budget.holders) {
      if (!holder->readCancellable_) continue;  // nothing large pending: not worth evicting
      if (largest == nullptr || holder->incomingHeld() > largest->incomingHeld()) largest = holder;
    }
    if (largest == nullptr || largest == this ||
        largest->incomingHeld() <= incomingHeld_ + bytes) {
      return false;
    }
    ++budget.refusals;
    largest->evictForBudget(
        "closed to make room in the shared budget (incomingBytesMax " +
        std::to_string(budget.incomingBytesMax) + "): its unfinished message held " +
        std::to_string(largest->incomingHeld()) + " bytes, the most of any connection");
  }
  return true;
}

kj::Exception WatchedMessageStream::limitReached(std::string reason) {
  record(DisconnectCause::kLimit, reason);
  return kj::Exception(kj::Exception::Type::OVERLOADED, __FILE__, __LINE__,
                       kj::str(reason.c_str()));
}

// A message is charged at its declared size as soon as its segment table is read, before
// its body is waited for or an array is allocated for it: memory is bounded by what is
// declared, not by what has arrived.
kj::Maybe<kj::Exception> WatchedMessageStream::chargeRead(std::size_t bytes) {
  RpcBudget& budget = *limits_.budget;
  if (incomingHeld_ + bytes <= limits_.incomingBytesMax &&
      budget.incomingBytes + bytes <= budget.incomingBytesMax) {
    incomingHeld_ += bytes;  // the common case: under both caps, nobody to evict
    budget.incomingBytes += bytes;
    return nullptr;
  }
  if (incomingHeld_ + bytes > limits_.incomingBytesMax) {
    return limitReached("a message of at least " + std::to_string(incomingHeld_ + bytes) +
                        " bytes is over incomingBytesMax (" +
                        std::to_string(limits_.incomingBytesMax) + ") of this connection");
  }
  if (!makeRoom(bytes)) {
    ++budget.refusals;
    return limitReached("partially received messages of all connections would hold " +
                        std::to_string(budget.incomingBytes + bytes) +
                        " bytes, over the shared budget's incomingBytesMax (" +
                        std::to_string(budget.incomingBytesMax) + ")");
  }
  incomingHeld_ += bytes;
  budget.incomingBytes += bytes;
  return nullptr;
}

void WatchedMessageStream::releaseIncoming() {
  MOONPOOL_CHECK_GE(limits_.budget->incomingBytes, incomingHeld_, "incoming budget underflow");
  limits_.budget->incomingBytes -= incomingHeld_;
  incomingHeld_ = 0;
}

void WatchedMessageStream::outgoingWritten() {
  // Only ever lower the charge here: a queue that grew is judged by measureQueue, where a
  // refusal can fail the write that grew it.
  if (queue_ == nullptr) return;
  const std::size_t queued = queue_->getCurrentQueueSize() + writer_.heldBytes();
  if (queued >= outgoingHeld_) return;
  limits_.budget->outgoingBytes -= outgoingHeld_ - queued;
  outgoingHeld_ = queued;
}

kj::Maybe<kj::Exception> WatchedMessageStream::measureQueue() {
  if (queue_ == nullptr) return nullptr;
  RpcBudget& budget = *limits_.budget;
  // Cap'n Proto's queue, and what the writer took and has not written yet.
  const std::size_t queued = queue_->getCurrentQueueSize() + writer_.heldBytes();
  // Unchanged since it was last charged (and judged then): nothing to re-measure. Most
  // calls find the queue empty both times.
  if (queued == outgoingHeld_) return nullptr;
  MOONPOOL_CHECK_GE(budget.outgoingBytes, outgoingHeld_, "outgoing budget underflow");
  budget.outgoingBytes = budget.outgoingBytes - outgoingHeld_ + queued;
  outgoingHeld_ = queued;
  if (queued > limits_.outgoingBytesMax) {
    return limitReached(std::to_string(queued) + " bytes queued for a peer that does not read " +
                        "them, over outgoingBytesMax (" +
                        std::to_string(limits_.outgoingBytesMax) + ")");
  }
  if (budget.outgoingBytes > budget.outgoingBytesMax) {
    ++budget.refusals;
    return limitReached("bytes queued for all peers reached " +
                        std::to_string(budget.outgoingBytes) +
                        ", over the shared budget's outgoingBytesMax (" +
                        std::to_string(budget.outgoingBytesMax) + "); this peer held " +
                        std::to_string(queued));
  }
  return nullptr;
}

kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> WatchedMessageStream::tryReadMessage(
    kj::ArrayPtr<kj::AutoCloseFd> fdSpace, ::capnp::ReaderOptions options,
    kj::ArrayPtr<::capnp::word> scratchSpace) {
  // A byte stream carries no descriptors, and messages are copied out of the read buffer,
  // so neither fdSpace nor scratchSpace is used.
  static_cast<void>(fdSpace);
  static_cast<void>(scratchSpace);
  if (callsInFlight_ < limits_.callsInFlightMax) return readNext(options);
  // At the cap: read nothing until a Return goes out (noteOutgoing fulfils room_). Cap'n
  // Proto reads one message at a time, so any earlier room_ belongs to a dropped read.
  auto paf = kj::newPromiseAndFulfiller<void>();
  room_ = kj::mv(paf.fulfiller);
  return paf.promise.then([this, options]() { return readNext(options); });
}

kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> WatchedMessageStream::readNext(
    ::capnp::ReaderOptions options) {
  Parsed parsed = parseBuffered(options);
  switch (parsed.kind) {
    case Parsed::Kind::kMessage:
      return deliver(kj::mv(parsed.message));
    case Parsed::Kind::kNeedBytes:
      return fill(parsed.moreBytes, options);
    case Parsed::Kind::kLarge:
      return readLarge(kj::mv(parsed.large), parsed.largeHave, options);
    case Parsed::Kind::kError:
      break;
  }
  KJ_IF_MAYBE(error, parsed.error) { return readFailed(kj::mv(*error)); }
  KJ_UNREACHABLE;
}

// The framing is Cap'n Proto's stream format, judged as its own reader judges it: the
// first word holds the segment count minus one (so 0xffffffff means no segment) and the
// first segment's size in words; more sizes follow for more segments, padded to a word;
// then the segments. Over kSegmentsMax segments, or more words in all than the traversal
// limit, is refused before anything else of the message is read.
WatchedMessageStream::Parsed WatchedMessageStream::parseBuffered(
    const ::capnp::ReaderOptions& options) {
  Parsed parsed;
  const kj::byte* front = readBuffer_.asBytes().begin() + readBegin_;
  const std::size_t have = readEnd_ - readBegin_;
  if (have < kWordBytes) {
    parsed.moreBytes = kWordBytes - have;
    return parsed;
  }
  const std::uint32_t segments = loadLe32(front) + 1;  // wraps to 0 like Cap'n Proto's
  if (segments > kSegmentsMax) {
    parsed.kind = Parsed::Kind::kError;
    parsed.error = KJ_EXCEPTION(FAILED, "Message has too many segments.", segments);
    return parsed;
  }
  const std::size_t tableBytes = kWordBytes * (segments / 2 + 1);
  if (have < tableBytes) {
    parsed.moreBytes = tableBytes - have;
    return parsed;
  }
  std::uint64_t bodyWords = segments == 0 ? 0 : loadLe32(front + 4);
  for (std::uint32_t i = 1; i < segments; ++i) bodyWords += loadLe32(front + 4 + 4 * i);
  if (bodyWords > options.traversalLimitInWords) {
    parsed.kind = Parsed::Kind::kError;
    parsed.error = KJ_EXCEPTION(FAILED,
                                "Message is too large (over the traversal limit of the "
                                "receiving end, capnp::ReaderOptions).",
                                bodyWords, options.traversalLimitInWords);
    return parsed;
  }
  const std::size_t messageBytes = tableBytes + kWordBytes * bodyWords;
  if (incomingHeld_ == 0) {  // first sight of this message's size
    KJ_IF_MAYBE(refused, chargeRead(messageBytes)) {
      parsed.kind = Parsed::Kind::kError;
      parsed.error = kj::mv(*refused);
      return parsed;
    }
  }
  const std::size_t bufferBytes = readBuffer_.size() * kWordBytes;
  if (have >= messageBytes || messageBytes > bufferBytes) {
    // Whole here, or too large for the buffer: an array of its own, with what has arrived.
    const std::size_t copied = std::min(have, messageBytes);
    kj::Array<::capnp::word> words = kj::heapArray<::capnp::word>(messageBytes / kWordBytes);
    std::memcpy(words.begin(), front, copied);
    if (segments == 0) std::memset(words.asBytes().begin() + 4, 0, 4);  // no segment: empty
    readBegin_ += copied;
    if (readBegin_ == readEnd_) readBegin_ = readEnd_ = 0;
    if (copied == messageBytes) {
      parsed.kind = Parsed::Kind::kMessage;
      parsed.message = kj::heap<OwnedFlatMessage>(kj::mv(words), options);
      return parsed;
    }
    parsed.kind = Parsed::Kind::kLarge;
    parsed.large = kj::mv(words);
    parsed.largeHave = copied;
    return parsed;
  }
  parsed.moreBytes = messageBytes - have;
  return parsed;
}

kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> WatchedMessageStream::fill(
    std::size_t moreBytes, ::capnp::ReaderOptions options) {
  kj::byte* buffer = readBuffer_.asBytes().begin();
  const std::size_t bufferBytes = readBuffer_.size() * kWordBytes;
  if (readBegin_ > 0 && readEnd_ + moreBytes > bufferBytes) {
    // The message started late in the buffer and will not fit behind it: move it forward.
    std::memmove(buffer, buffer + readBegin_, readEnd_ - readBegin_);
    readEnd_ -= readBegin_;
    readBegin_ = 0;
  }
  return stream_.tryRead(buffer + readEnd_, moreBytes, bufferBytes - readEnd_)
      .then(
          [this, moreBytes, options](
              size_t n) -> kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> {
            readEnd_ += n;
            if (n >= moreBytes) return readNext(options);
            if (readEnd_ == readBegin_) {  // between messages: a clean end
              record(DisconnectCause::kClosed, "the peer closed the connection");
              return kj::Maybe<::capnp::MessageReaderAndFds>(nullptr);
            }
            return readFailed(KJ_EXCEPTION(DISCONNECTED,
                                           "Premature EOF: the stream ended inside a message",
                                           readEnd_ - readBegin_));
          },
          [this](kj::Exception&& error) { return readFailed(kj::mv(error)); });
}

kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> WatchedMessageStream::readLarge(
    kj::Array<::capnp::word> words, std::size_t have, ::capnp::ReaderOptions options) {
  const std::size_t remaining = words.size() * kWordBytes - have;
  kj::Promise<size_t> read =
      stream_.tryRead(words.asBytes().begin() + have, remaining, remaining);
  if (remaining >= kCancellableReadBytes) {
    readCancellable_ = true;  // until the message is whole or evicted
    read = reading_.wrap(kj::mv(read));
  }
  return read.then(
      [this, words = kj::mv(words), remaining,
       options](size_t n) mutable -> kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> {
        readCancellable_ = false;
        if (n < remaining) {
          return readFailed(KJ_EXCEPTION(DISCONNECTED,
                                         "Premature EOF: the stream ended inside a message",
                                         remaining - n));
        }
        return deliver(kj::heap<OwnedFlatMessage>(kj::mv(words), options));
      },
      [this](kj::Exception&& error) {
        readCancellable_ = false;
        return readFailed(kj::mv(error));
      });
}

kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> WatchedMessageStream::deliver(
    kj::Own<::capnp::MessageReader> message) {
  releaseIncoming();  // the message is whole: Cap'n Proto's flow limit takes over
  ++messagesReceived_;
  if (limits_.time != nullptr) lastMessageAt_ = limits_.time->now();
  noteIncoming(*message);
  KJ_IF_MAYBE(overQueued, measureQueue()) { return kj::mv(*overQueued); }
  return kj::Maybe<::capnp::MessageReaderAndFds>(
      ::capnp::MessageReaderAndFds{kj::mv(message), nullptr});
}

kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> WatchedMessageStream::readFailed(
    kj::Exception error) {
  // A failed stream is an I/O error; anything else is a refused framing ("too many
  // segments", "too large") or a cap: the peer's bytes are at fault. A cap has recorded
  // its own reason already (the first cause wins).
  record(error.getType() == kj::Exception::Type::DISCONNECTED ? DisconnectCause::kIoError
                                                               : DisconnectCause::kProtocolError,
         describe(error));
  return kj::mv(error);
}

kj::Promise<void> WatchedMessageStream::writeMessage(
    kj::ArrayPtr<const int> fds, kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments) {
  static_cast<void>(fds);  // a byte stream carries no descriptors
  noteOutgoing(segments);
  KJ_IF_MAYBE(overQueued, measureQueue()) { return kj::mv(*overQueued); }
  return writer_.write(segments);
}

kj::Promise<void> WatchedMessageStream::writeMessages(
    kj::ArrayPtr<kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>>> messages) {
  for (auto segments : messages) noteOutgoing(segments);
  KJ_IF_MAYBE(overQueued, measureQueue()) { return kj::mv(*overQueued); }
  auto written = kj::heapArrayBuilder<kj::Promise<void>>(messages.size());
  for (auto segments : messages) written.add(writer_.write(segments));
  return kj::joinPromises(written.finish());
}

kj::Promise<void> WatchedMessageStream::end() {
  return writer_.flushed().then([this]() { return inner_.end(); });
}

void WatchedMessageStream::noteIncoming(::capnp::MessageReader& message) {
  const std::optional<Message::Which> kind = peekKind(message.getSegment(0));
  if (kind == Message::CALL || kind == Message::BOOTSTRAP) {
    ++callsInFlight_;
    return;
  }
  if (kind.has_value() && kind != Message::ABORT) return;
  // An Abort (its reason is wanted) or a root we could not peek at. Peeking must not change
  // what Cap'n Proto sees: a message we cannot even read is left for Cap'n Proto to reject
  // with its own reason.
  kj::Maybe<kj::Exception> unreadable = kj::runCatchingExceptions([&]() {
    Message::Reader root = message.getRoot<Message>();
    switch (root.which()) {
      case Message::CALL:
      case Message::BOOTSTRAP:
        ++callsInFlight_;
        break;
      case Message::ABORT:
        record(isShutdown(root.getAbort()) ? DisconnectCause::kClosed
                                           : DisconnectCause::kPeerAborted,
               "the peer aborted: " + std::string(root.getAbort().getReason().cStr()));
        break;
      default:
        break;
    }
  });
  static_cast<void>(unreadable);
}

void WatchedMessageStream::noteOutgoing(
    kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments) {
  const std::optional<Message::Which> kind =
      segments.size() == 0 ? std::nullopt : peekKind(segments[0]);
  if (kind == Message::RETURN) {
    noteReturn();
    return;
  }
  if (kind.has_value() && kind != Message::ABORT) return;
  ::capnp::SegmentArrayMessageReader reader(segments);
  Message::Reader root = reader.getRoot<Message>();
  switch (root.which()) {
    case Message::RETURN:
      noteReturn();
      break;
    case Message::ABORT:
      record(isShutdown(root.getAbort()) ? DisconnectCause::kIoError
                                         : DisconnectCause::kProtocolError,
             root.getAbort().getReason().cStr());
      break;
    default:
      break;
  }
}

void WatchedMessageStream::noteReturn() {
  if (callsInFlight_ > 0) --callsInFlight_;
  if (callsInFlight_ >= limits_.callsInFlightMax) return;
  KJ_IF_MAYBE(waiting, room_) {
    (*waiting)->fulfill();
    room_ = nullptr;
  }
}

void WatchedMessageStream::record(DisconnectCause cause, std::string reason) {
  if (!ending_) ending_ = Ending{cause, std::move(reason)};
}

}  // namespace moonpool::rpc::internal
