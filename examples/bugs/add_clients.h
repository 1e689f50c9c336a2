// The adding clients shared by duplicate_apply and needle (examples/bugs): kClients loops,
// each sending "add <client> <id> <amount>" requests until the chaos phase ends, with the
// sum of acknowledged amounts kept in the workload's state (Sent) for the check. How one
// request is sent until acknowledged (resends, reconnects) is each protocol's own AddOnce.
// Compiled into each bug's binary (not bugs_common), so its edges are instrumented too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "moonpool/runner/workload.h"
#include "moonpool/task.h"

namespace moonpool::examples::bugs {

// What ctx.state<Sent>() holds: the sum of the amounts the server acknowledged.
struct Sent {
  std::uint64_t sum = 0;
};

// Sends `request` (carrying `id`) on `connection`, dialing `server` as needed, until it is
// acknowledged.
using AddOnce = Task<void> (*)(Providers p, NetAddress server,
                               std::unique_ptr<Connection>& connection, std::string request,
                               std::uint64_t id);

// Workload::run for the adding clients: the server is the peer process named `server`.
struct AddClientsRun {
  const char* server;
  std::uint16_t port;
  char addTag;
  AddOnce addOnce;
  [[clang::coro_wrapper]] Task<void> operator()(WorkloadContext& ctx) const;
};

// For the check, once the chaos has settled: the total the peer process named `server`
// answers to a `queryTag` record on `port`.
Task<std::uint64_t> queryTotal(WorkloadContext& ctx, const char* server, std::uint16_t port,
                               char queryTag);

}  // namespace moonpool::examples::bugs
