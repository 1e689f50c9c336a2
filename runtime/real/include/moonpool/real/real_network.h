// The production network provider: TCP over KJ's event loop (runtime/ real providers).
//
// RealNetworkProvider implements network.h with KJ 0.9 async I/O on the RealExecutor's
// thread (KJ is single-threaded; every call must come from the thread that runs the
// executor). Addresses are IPv4; listen() and connect() take a NetAddress directly, so no
// name resolution ever happens.
//
// Where TCP and the contract of network.h differ, and how this provider bridges them:
//   - backlog: handed to listen(2) as given (the kernel clamps it to net.core.somaxconn;
//     Linux queues backlog + 1 completed connections, and further SYNs wait or are
//     dropped). Connects are completed by the kernel before accept(); accept() hands them
//     out oldest first.
//   - accept errors (EMFILE, ENFILE, ENOBUFS, ENOMEM: kIo with the errno text; ECONNABORTED:
//     kReset) leave the listener usable: accept() again later (RpcServer backs off).
//   - errors: KJ reports system-call failures as kj::Exception whose description carries
//     strerror(errno); they are mapped onto IoErrorKind (refused, reset, broken pipe, timed
//     out, unreachable, address in use, invalid argument; anything else is kIo). KJ's
//     DISCONNECTED type alone does not tell a reset from other disconnects, so the errno
//     text decides; a DISCONNECTED without a recognised errno becomes kReset.
//   - end of stream: a read of 0 bytes (the peer shut down its writing side or closed).
//   - abort(): sets SO_LINGER {on, 0} and closes the socket, so the kernel sends an RST:
//     the peer's next read fails with kReset (ECONNRESET). A peer that was only writing may
//     see kBrokenPipe (EPIPE) instead when its kernel already processed the RST: TCP does
//     not let us choose. Operations of ours still in flight complete with kReset.
//   - destruction: closes the socket (FIN). Operations still in flight on the destroyed
//     connection complete with kInvalidArgument ("connection destroyed", an operation on a
//     closed handle) instead of touching freed memory; a pending accept() of a destroyed
//     listener likewise. Caveat of real TCP: closing a socket that still has unread received bytes
//     makes the kernel send an RST, not a FIN (the peer then sees kReset).
//   - one read and one write may be in flight at a time per connection (KJ streams allow
//     no more); a second concurrent read or write is a bug and fails a check.
//   - write() hands every piece to KJ, which writes all of them before completing, so it
//     returns the full byte count (backpressure is the wait for the kernel's send buffer).
//   - after a read or write failed, every later read and write returns the same error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "moonpool/network.h"
#include "moonpool/task.h"

namespace moonpool {

class RealExecutor;

class RealNetworkProvider final : public NetworkProvider {
 public:
  // `executor` outlives this provider and every connection and listener it makes.
  // `localIp` is what localIp() reports: the address peers reach this process at.
  explicit RealNetworkProvider(RealExecutor& executor, IpAddress localIp = kLoopbackIp);
  RealNetworkProvider(const RealNetworkProvider&) = delete;
  RealNetworkProvider& operator=(const RealNetworkProvider&) = delete;
  ~RealNetworkProvider() override;

  // implements NetworkProvider
  IoResult<std::unique_ptr<Listener>> listen(NetAddress address, std::size_t backlog) override;
  Task<IoResult<std::unique_ptr<Connection>>> connect(NetAddress address) override;
  IpAddress localIp() const override { return localIp_; }

 private:
  RealExecutor& executor_;
  IpAddress localIp_;
};

}  // namespace moonpool
