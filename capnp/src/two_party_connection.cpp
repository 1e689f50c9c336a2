// One two-party RPC connection and the watch on its messages (see rpc_connection.h).
#include "two_party_connection.h"

#include <capnp/rpc.capnp.h>
#include <kj/debug.h>

#include <sys/socket.h>

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

::capnp::ReaderOptions readerOptions(const RpcOptions& options) {
  ::capnp::ReaderOptions reader;
  reader.traversalLimitInWords = options.traversalLimitWords;
  reader.nestingLimit = options.nestingLimit;
  return reader;
}

::capnp::RpcSystem<::capnp::rpc::twoparty::VatId> makeSystem(
    ::capnp::TwoPartyVatNetwork& network, kj::Maybe<::capnp::Capability::Client> bootstrap) {
  KJ_IF_MAYBE(served, bootstrap) { return ::capnp::makeRpcServer(network, kj::mv(*served)); }
  return ::capnp::makeRpcClient(network);
}

}  // namespace

kj::TimePoint ExecutorClock::now() const {
  return kj::origin<kj::TimePoint>() +
         executor_.now().time_since_epoch().count() * kj::NANOSECONDS;
}

// ---------------------------------------------------------------------------------------
// WatchedMessageStream

WatchedMessageStream::WatchedMessageStream(kj::AsyncIoStream& stream, StreamLimits limits)
    : limits_(std::move(limits)),
      holderId_(limits_.budget->nextHolder++),
      meter_(*this, stream),
      inner_(meter_) {
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

kj::Promise<size_t> WatchedMessageStream::Meter::tryRead(void* buffer, size_t minBytes,
                                                         size_t maxBytes) {
  KJ_IF_MAYBE(refused, owner_.chargeRead(maxBytes)) { return kj::mv(*refused); }
  if (maxBytes < kCancellableReadBytes) return stream_.tryRead(buffer, minBytes, maxBytes);
  owner_.readCancellable_ = true;  // until the message is whole (readNext) or evicted
  return owner_.reading_.wrap(stream_.tryRead(buffer, minBytes, maxBytes));
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

// Cap'n Proto reads a message in exact pieces (its first word, the rest of the segment
// table, then the whole body into a buffer it has just allocated for it), so what its reads
// ask for is what the message will hold: charging `bytes` before reading bounds memory by
// what is declared, not by what has arrived.
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

kj::Maybe<kj::Exception> WatchedMessageStream::measureQueue() {
  if (queue_ == nullptr) return nullptr;
  RpcBudget& budget = *limits_.budget;
  const std::size_t queued = queue_->getCurrentQueueSize();
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
  if (callsInFlight_ < limits_.callsInFlightMax) return readNext(fdSpace, options, scratchSpace);
  // At the cap: read nothing until a Return goes out (noteOutgoing fulfils room_). Cap'n
  // Proto reads one message at a time, so any earlier room_ belongs to a dropped read.
  auto paf = kj::newPromiseAndFulfiller<void>();
  room_ = kj::mv(paf.fulfiller);
  return paf.promise.then([this, fdSpace, options, scratchSpace]() {
    return readNext(fdSpace, options, scratchSpace);
  });
}

kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> WatchedMessageStream::readNext(
    kj::ArrayPtr<kj::AutoCloseFd> fdSpace, ::capnp::ReaderOptions options,
    kj::ArrayPtr<::capnp::word> scratchSpace) {
  // What AsyncIoMessageStream::tryReadMessage does (a byte stream carries no descriptors, so
  // fdSpace stays unused), with the watch in the same continuation: going through inner_
  // cost one more promise node per message.
  static_cast<void>(fdSpace);
  return ::capnp::tryReadMessage(meter_, options, scratchSpace)
      .then(
          [this](kj::Maybe<kj::Own<::capnp::MessageReader>>&& message)
              -> kj::Maybe<::capnp::MessageReaderAndFds> {
            readCancellable_ = false;
            releaseIncoming();  // the message is whole: Cap'n Proto's flow limit takes over
            KJ_IF_MAYBE(received, message) {
              ++messagesReceived_;
              if (limits_.time != nullptr) lastMessageAt_ = limits_.time->now();
              noteIncoming(**received);
              KJ_IF_MAYBE(overQueued, measureQueue()) {
                kj::throwFatalException(kj::mv(*overQueued));
              }
              return ::capnp::MessageReaderAndFds{kj::mv(*received), nullptr};
            }
            record(DisconnectCause::kClosed, "the peer closed the connection");
            return nullptr;
          },
          [this](kj::Exception&& error) -> kj::Maybe<::capnp::MessageReaderAndFds> {
            readCancellable_ = false;
            // A failed stream is an I/O error; anything else is capnp refusing the framing
            // ("too many segments", "too large"): the peer's bytes are at fault.
            record(error.getType() == kj::Exception::Type::DISCONNECTED
                       ? DisconnectCause::kIoError
                       : DisconnectCause::kProtocolError,
                   describe(error));
            kj::throwFatalException(kj::mv(error));
          });
}

kj::Promise<void> WatchedMessageStream::writeMessage(
    kj::ArrayPtr<const int> fds, kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments) {
  noteOutgoing(segments);
  KJ_IF_MAYBE(overQueued, measureQueue()) { return kj::mv(*overQueued); }
  return watchWrite(inner_.writeMessage(fds, segments));
}

kj::Promise<void> WatchedMessageStream::writeMessages(
    kj::ArrayPtr<kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>>> messages) {
  for (auto segments : messages) noteOutgoing(segments);
  KJ_IF_MAYBE(overQueued, measureQueue()) { return kj::mv(*overQueued); }
  return watchWrite(inner_.writeMessages(messages));
}

kj::Promise<void> WatchedMessageStream::watchWrite(kj::Promise<void> write) {
  // A failed write ends the connection as surely as a failed read; noting it here lets
  // RpcConnection::ended() say so before Cap'n Proto fails the calls on it. The handler
  // rethrows rather than returning a promise: one node per write, not two (a returned
  // promise needs a chain node and an event of its own).
  return write.catch_([this](kj::Exception&& error) {
    record(DisconnectCause::kIoError, describe(error));
    kj::throwFatalException(kj::mv(error));
  });
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

// ---------------------------------------------------------------------------------------
// BaseStream

BaseStream::BaseStream(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)),
      stream_(nullptr),
      local_(connection_->localAddress()),
      remote_(connection_->remoteAddress()) {
  stream_ = nativeKjStream(*connection_);
  if (stream_ == nullptr) {
    kj::Own<ConnectionStream> bridged = kj::heap<ConnectionStream>(std::move(connection_));
    stream_ = bridged.get();
    bridged_ = kj::mv(bridged);
  }
}

void BaseStream::abort() {
  KJ_IF_MAYBE(bridged, bridged_) {
    (*bridged)->abort();
    return;
  }
  // The KJ stream is the Connection's: resetting through it keeps the Connection's rule
  // (connection_stream.h, KjStreamConnection). Linger {on, 0}: closing sends an RST; the
  // shutdowns fail this side's pending I/O now.
  const struct linger resetOnClose {.l_onoff = 1, .l_linger = 0};
  kj::Maybe<kj::Exception> failed = kj::runCatchingExceptions([&]() {
    stream_->setsockopt(SOL_SOCKET, SO_LINGER, &resetOnClose, sizeof resetOnClose);
    stream_->abortRead();
    stream_->shutdownWrite();
  });
  static_cast<void>(failed);  // already closed by the peer: nothing left to reset
}

// ---------------------------------------------------------------------------------------
// RpcConnection

RpcConnection::RpcConnection(std::unique_ptr<BaseStream> base, kj::Own<kj::AsyncIoStream> layered,
                             ::capnp::rpc::twoparty::Side side,
                             kj::Maybe<::capnp::Capability::Client> bootstrap,
                             const RpcOptions& options, std::shared_ptr<RpcBudget> budget,
                             TimeProvider* time, Executor& executor)
    : clock_(executor),
      base_(std::move(base)),
      layered_(kj::mv(layered)),
      messages_(framed(options), StreamLimits{.callsInFlightMax = options.callsInFlightMax,
                                              .incomingBytesMax = options.incomingBytesMax,
                                              .outgoingBytesMax = options.outgoingBytesMax,
                                              .budget = std::move(budget),
                                              .time = time}),
      network_(messages_, side, readerOptions(options), clock_),
      rpc_(makeSystem(network_, kj::mv(bootstrap))) {
  rpc_.setFlowLimit(options.callWordsInFlightMax);
  messages_.watchQueue(network_);
}

RpcConnection::~RpcConnection() = default;

kj::AsyncIoStream& RpcConnection::framed(const RpcOptions& options) {
  kj::AsyncIoStream& below = layered_.get() != nullptr ? *layered_ : base_->stream();
  if (options.framing != Framing::kChecksummed) return below;
  kj::Own<ChecksummedStream> checksummed = kj::heap<ChecksummedStream>(below);
  kj::AsyncIoStream& framedStream = *checksummed;
  checksummed_ = kj::mv(checksummed);
  return framedStream;
}

void RpcConnection::close(DisconnectCause cause, std::string reason) {
  messages_.record(cause, std::move(reason));
  base_->abort();
}

::capnp::Capability::Client RpcConnection::bootstrap() {
  ::capnp::word scratch[4] = {};
  ::capnp::MallocMessageBuilder message(scratch);
  auto vatId = message.getRoot<::capnp::rpc::twoparty::VatId>();
  vatId.setSide(network_.getSide() == ::capnp::rpc::twoparty::Side::CLIENT
                    ? ::capnp::rpc::twoparty::Side::SERVER
                    : ::capnp::rpc::twoparty::Side::CLIENT);
  return rpc_.bootstrap(vatId);
}

bool RpcConnection::ended() const {
  KJ_IF_MAYBE(checksummed, checksummed_) {
    if ((*checksummed)->corruption()) return true;
  }
  return messages_.ending().has_value();
}

DisconnectReport RpcConnection::report() const {
  DisconnectReport report;
  report.local = base_->localAddress();
  report.peer = base_->remoteAddress();
  KJ_IF_MAYBE(checksummed, checksummed_) {
    if ((*checksummed)->corruption()) {
      report.cause = DisconnectCause::kCorrupted;
      report.reason = *(*checksummed)->corruption();
      return report;
    }
  }
  if (const auto& ending = messages_.ending()) {
    report.cause = ending->cause;
    report.reason = ending->reason;
  } else {
    report.cause = DisconnectCause::kClosed;
    report.reason = "the connection ended without a recorded cause";
  }
  return report;
}

}  // namespace moonpool::rpc::internal
