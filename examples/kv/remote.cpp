// Peers, calls as values and the RPC layer's sometimes-assertions (see remote.h).
#include "remote.h"

#include "absl/strings/str_cat.h"
#include "moonpool/assertions.h"
#include "moonpool/check.h"

namespace moonpool::kv {

using namespace std::chrono_literals;

rpc::PeerOptions peerOptions(Duration callTimeout, std::string who, EventSink* events,
                             KvCounters* counters) {
  rpc::PeerOptions options;
  options.callTimeout = callTimeout;
  // A restarted server is found again within a second.
  options.backoffMax = 1s;
  // One ping a second per peer (a missed one after 1 s; failed after three): pings are most
  // of the traffic of an idle cluster, and at the default 250 ms they doubled the cost of a
  // simulated seed.
  options.pingInterval = 1s;
  options.pingTimeout = 1s;
  options.rpc.onDisconnect = [who = std::move(who), events,
                              counters](const rpc::DisconnectReport& report) {
    noteDisconnect(report, who, events, counters);
  };
  return options;
}

void noteDisconnect(const rpc::DisconnectReport& report, std::string_view who,
                    EventSink* events, KvCounters* counters) {
  const bool corrupt = report.cause == rpc::DisconnectCause::kCorrupted;
  MOONPOOL_SOMETIMES(corrupt, "a corrupt frame was detected and the connection closed");
  if (!corrupt) return;
  if (counters != nullptr) ++counters->corruptFrames;
  if (events != nullptr) events->note(who, "kv.frame_corrupt", report.toString());
}

void KvPeer::observe(std::optional<rpc::RpcFailure> failure) {
  MOONPOOL_SOMETIMES(failure == rpc::RpcFailure::kTimedOut, "a call reached its deadline");
  MOONPOOL_SOMETIMES(failure == rpc::RpcFailure::kPeerFailed,
                     "a call failed fast while its peer was failed");
  sync();
  const rpc::PeerStats& stats = peer_.stats();
  MOONPOOL_SOMETIMES(stats.reconnects > 0, "a peer reconnected after its connection ended");
  MOONPOOL_SOMETIMES(stats.resends > 0, "an idempotent call was resent on a new connection");
  MOONPOOL_SOMETIMES(stats.failures > 0, "the failure monitor marked a peer failed");
  MOONPOOL_SOMETIMES(stats.recoveries > 0, "a peer marked failed answered again (recovered)");
}

void KvPeer::sync() {
  const rpc::PeerStats& stats = peer_.stats();
  MOONPOOL_CHECK_GE(stats.reconnects, counted_.reconnects, "peer statistics went backwards");
  if (counters_ != nullptr) {
    counters_->reconnects += stats.reconnects - counted_.reconnects;
    counters_->resends += stats.resends - counted_.resends;
    counters_->peerFailures += stats.failures - counted_.failures;
    counters_->peerRecoveries += stats.recoveries - counted_.recoveries;
    counters_->callTimeouts += stats.timeouts - counted_.timeouts;
    counters_->callsFailedFast += stats.failFast - counted_.failFast;
    counters_->connectionsLost += stats.connectionLost - counted_.connectionLost;
  }
  counted_ = stats;
}

}  // namespace moonpool::kv
