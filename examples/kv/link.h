// RpcLink: one request/response connection to a KV server, reconnecting on demand
// (examples/kv). Used by clients (to the primary) and by the primary (to each backup).
//
// call() connects when there is no connection, writes the request and reads one reply,
// all within `timeout`. Any failure — refused or hung connect, reset, timeout, a corrupt or
// malformed reply frame — closes the connection and comes back as an error status, so the
// caller's next call() starts from a fresh connection and never reads a late reply to an
// old request. Errors: kDeadlineExceeded (timed out), kUnavailable (connection failed),
// kDataLoss / kInvalidArgument (corrupt frame; see wire.h).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "observe.h"
#include "wire.h"

namespace moonpool::kv {

class RpcLink {
 public:
  // `owner` names the caller in events; `events` and `counters` may be null and must
  // outlive the link, as must the providers.
  RpcLink(Providers providers, NetAddress target, Duration timeout, std::string owner,
          EventSink* events, KvCounters* counters)
      : providers_(providers),
        target_(target),
        timeout_(timeout),
        owner_(std::move(owner)),
        events_(events),
        counters_(counters) {}
  RpcLink(const RpcLink&) = delete;
  RpcLink& operator=(const RpcLink&) = delete;

  Task<absl::StatusOr<Message>> call(Message request);
  void close() { connection_.reset(); }
  bool connected() const { return connection_ != nullptr; }
  // Connections opened so far (the first one included).
  std::uint64_t connects() const { return connects_; }
  NetAddress target() const { return target_; }

 private:
  Task<absl::Status> connect();

  Providers providers_;
  NetAddress target_;
  Duration timeout_;
  std::string owner_;
  EventSink* events_;
  KvCounters* counters_;
  std::unique_ptr<Connection> connection_;
  std::uint64_t connects_ = 0;
};

// Records a failed read (the one place every receiver reports corrupt frames): counts it,
// notes it, and feeds the "corrupt frame detected" assertion.
void noteReadFailure(const absl::Status& status, std::string_view who, EventSink* events,
                     KvCounters* counters);

}  // namespace moonpool::kv
