// One two-party RPC connection (see two_party_connection.h).
#include "two_party_connection.h"

#include <capnp/rpc.capnp.h>
#include <kj/debug.h>

#include <sys/socket.h>

namespace moonpool::rpc::internal {

namespace {

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
  messages_.onWriteFailure([this]() { base_->abort(); });
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
