// One two-party RPC connection and the watch on its messages (see rpc_connection.h).
#include "two_party_connection.h"

#include <capnp/rpc.capnp.h>
#include <kj/debug.h>

#include "moonpool/check.h"

namespace moonpool::rpc::internal {

namespace {

using ::capnp::rpc::Message;

std::string describe(const kj::Exception& error) {
  return std::string(error.getDescription().cStr());
}

// An Abort carrying DISCONNECTED is a shutdown ("RpcSystem was destroyed", a failed
// stream); any other type blames the other side's bytes.
bool isShutdown(::capnp::rpc::Exception::Reader abort) {
  return abort.getType() == ::capnp::rpc::Exception::Type::DISCONNECTED;
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

WatchedMessageStream::WatchedMessageStream(kj::AsyncIoStream& stream,
                                           std::uint32_t callsInFlightMax)
    : inner_(stream), callsInFlightMax_(callsInFlightMax) {
  MOONPOOL_CHECK_GT(callsInFlightMax_, 0u, "validated by validateRpcOptions");
}

kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> WatchedMessageStream::tryReadMessage(
    kj::ArrayPtr<kj::AutoCloseFd> fdSpace, ::capnp::ReaderOptions options,
    kj::ArrayPtr<::capnp::word> scratchSpace) {
  if (callsInFlight_ < callsInFlightMax_) return readNext(fdSpace, options, scratchSpace);
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
  return inner_.tryReadMessage(fdSpace, options, scratchSpace)
      .then(
          [this](kj::Maybe<::capnp::MessageReaderAndFds>&& message) {
            KJ_IF_MAYBE(received, message) {
              noteIncoming(*received->reader);
            } else {
              record(DisconnectCause::kClosed, "the peer closed the connection");
            }
            return kj::mv(message);
          },
          [this](kj::Exception&& error) -> kj::Maybe<::capnp::MessageReaderAndFds> {
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
  return watchWrite(inner_.writeMessage(fds, segments));
}

kj::Promise<void> WatchedMessageStream::writeMessages(
    kj::ArrayPtr<kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>>> messages) {
  for (auto segments : messages) noteOutgoing(segments);
  return watchWrite(inner_.writeMessages(messages));
}

kj::Promise<void> WatchedMessageStream::watchWrite(kj::Promise<void> write) {
  // A failed write ends the connection as surely as a failed read; noting it here lets
  // RpcConnection::ended() say so before Cap'n Proto fails the calls on it.
  return write.catch_([this](kj::Exception&& error) -> kj::Promise<void> {
    record(DisconnectCause::kIoError, describe(error));
    return kj::mv(error);
  });
}

void WatchedMessageStream::noteIncoming(::capnp::MessageReader& message) {
  // Peeking must not change what Cap'n Proto sees: a message we cannot even peek at is left
  // for Cap'n Proto to reject with its own reason.
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
  ::capnp::SegmentArrayMessageReader reader(segments);
  Message::Reader root = reader.getRoot<Message>();
  switch (root.which()) {
    case Message::RETURN:
      if (callsInFlight_ > 0) --callsInFlight_;
      if (callsInFlight_ < callsInFlightMax_) {
        KJ_IF_MAYBE(waiting, room_) {
          (*waiting)->fulfill();
          room_ = nullptr;
        }
      }
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

void WatchedMessageStream::record(DisconnectCause cause, std::string reason) {
  if (!ending_) ending_ = Ending{cause, std::move(reason)};
}

// ---------------------------------------------------------------------------------------
// RpcConnection

RpcConnection::RpcConnection(std::unique_ptr<Connection> connection,
                             ::capnp::rpc::twoparty::Side side,
                             kj::Maybe<::capnp::Capability::Client> bootstrap,
                             const RpcOptions& options, Executor& executor)
    : clock_(executor),
      stream_(std::move(connection)),
      checksummed_(options.framing == Framing::kChecksummed
                       ? kj::Maybe<kj::Own<ChecksummedStream>>(kj::heap<ChecksummedStream>(stream_))
                       : nullptr),
      messages_(framed(), options.callsInFlightMax),
      network_(messages_, side, readerOptions(options), clock_),
      rpc_(makeSystem(network_, kj::mv(bootstrap))) {
  rpc_.setFlowLimit(options.callWordsInFlightMax);
}

kj::AsyncIoStream& RpcConnection::framed() {
  KJ_IF_MAYBE(checksummed, checksummed_) { return **checksummed; }
  return stream_;
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
  report.local = stream_.localAddress();
  report.peer = stream_.remoteAddress();
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
