// Calling the other side (examples/kv): peers with the example's options, calls through the
// generated remotes as values, and the sometimes-assertions proving that chaos really
// reached the RPC layer's recovery paths (reconnects, resends, timeouts, the failure
// monitor).
//
//   KvPeer primary(providers, address, peerOptions(timeout, "client-1", events, counters),
//                  counters);
//   schema::KvStoreRemote store(primary.peer());
//   Reply<PutReply> reply = co_await primary.call(store.put(entry));
//   if (!reply.ok()) ... reply.failure, reply.delivered say what happened
//
// Business logic never catches: call() turns rpc::RpcError (peer.h) and a server's
// moonpool::Exception into a Reply without a value. Cancellation is not an exception (the
// frame is destroyed), so nothing here can swallow it.
#pragma once

#include <optional>
#include <string>

#include "moonpool/rpc/two_party.h"
#include "moonpool/error.h"
#include "moonpool/rpc/peer.h"
#include "observe.h"

namespace moonpool::kv {

// A reply, or why there is none.
template <typename T>
struct Reply {
  std::optional<T> value;
  // The transport's failure; empty on success and when the server threw (error says what).
  std::optional<rpc::RpcFailure> failure;
  // kMaybe when the server may have acted on the request (see rpc::RpcError).
  rpc::Delivered delivered = rpc::Delivered::kNo;
  std::string error;

  bool ok() const { return value.has_value(); }
  bool failed(rpc::RpcFailure kind) const { return failure == kind; }
};

// The example's peer options: `callTimeout` per call, a shorter reconnect backoff and a
// slower ping than the RPC layer's defaults (remote.cpp says why). Every ended connection
// is reported to noteDisconnect() as `who`.
rpc::PeerOptions peerOptions(Duration callTimeout, std::string who, EventSink* events,
                             KvCounters* counters);

// Counts a connection that ended (corrupted frames in particular) and feeds the "corrupt
// frame" assertion. The one place servers (rpc::Host) and peers report disconnects.
void noteDisconnect(const rpc::DisconnectReport& report, std::string_view who,
                    EventSink* events, KvCounters* counters);

// An rpc::Peer whose statistics flow into KvCounters and into the sometimes-assertions.
// Construct it inside a Task (rpc::Peer's rule); `counters` may be null and outlives it.
class KvPeer {
 public:
  KvPeer(Providers providers, NetAddress address, rpc::PeerOptions options,
         KvCounters* counters)
      : counters_(counters), peer_(providers, address, std::move(options)) {}
  KvPeer(const KvPeer&) = delete;
  KvPeer& operator=(const KvPeer&) = delete;
  ~KvPeer() { sync(); }

  rpc::Peer& peer() { return peer_; }

  // Awaits one call made on peer() (generated remote methods return such Tasks).
  template <typename T>
  Task<Reply<T>> call(Task<T> pending) {
    Reply<T> reply;
    try {
      reply.value.emplace(co_await std::move(pending));
    } catch (const rpc::RpcError& error) {
      reply.failure = error.failure();
      reply.delivered = error.delivered();
      reply.error = error.what();
    } catch (const Exception& error) {
      reply.delivered = rpc::Delivered::kMaybe;  // the server received it and threw
      reply.error = error.what();
    }
    observe(reply.failure);
    co_return reply;
  }

 private:
  // Feeds the sometimes-assertions with the call's outcome and the peer's statistics.
  void observe(std::optional<rpc::RpcFailure> failure);
  // Adds what the peer counted since the last sync to the counters.
  void sync();

  KvCounters* counters_;
  rpc::Peer peer_;
  rpc::PeerStats counted_;  // the part of peer_.stats() already in counters_
};

}  // namespace moonpool::kv
