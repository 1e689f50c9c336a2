// The adding clients of duplicate_apply and needle (see add_clients.h).
#include "add_clients.h"

#include <optional>
#include <string>
#include <vector>

#include "moonpool/check.h"
#include "wire.h"

namespace moonpool::examples::bugs {
namespace {

constexpr std::size_t kClients = 2;
constexpr DurationRange kGap{std::chrono::milliseconds(5), std::chrono::milliseconds(40)};

Task<void> clientLoop(WorkloadContext& ctx, AddClientsRun spec, std::uint64_t client) {
  Providers p = ctx.providers();
  const NetAddress server{ipOf(ctx.process().peers(), spec.server), spec.port};
  std::unique_ptr<Connection> connection;
  for (std::uint64_t id = 1; !ctx.chaosOver().isSet(); ++id) {
    const std::uint64_t amount = 1 + p.random().below(100);
    co_await spec.addOnce(p, server, connection,
                          Record()
                              .u8(static_cast<std::uint8_t>(spec.addTag))
                              .u64(client)
                              .u64(id)
                              .u64(amount)
                              .bytes(),
                          id);
    ctx.state<Sent>().sum += amount;
    co_await p.time().sleep(p.random().durationIn(kGap));
  }
}

Task<void> runClients(WorkloadContext& ctx, AddClientsRun spec) {
  std::vector<JoinHandle<void>> loops;
  for (std::uint64_t id = 1; id <= kClients; ++id) {
    loops.push_back(ctx.providers().tasks().spawn("client", clientLoop(ctx, spec, id)));
  }
  for (JoinHandle<void>& loop : loops) co_await loop.join();
}

}  // namespace

Task<void> AddClientsRun::operator()(WorkloadContext& ctx) const { return runClients(ctx, *this); }

Task<std::uint64_t> queryTotal(WorkloadContext& ctx, const char* server, std::uint16_t port,
                               char queryTag) {
  Providers p = ctx.providers();
  std::unique_ptr<Connection> connection =
      co_await dial(p.network(), NetAddress{ipOf(ctx.process().peers(), server), port});
  MOONPOOL_CHECK(connection != nullptr, std::string(server) + " is up after settling");
  std::optional<std::string> reply = co_await call(
      *connection, Record().u8(static_cast<std::uint8_t>(queryTag)).u64(0).u64(0).u64(0).bytes());
  MOONPOOL_CHECK(reply.has_value(), std::string(server) + " answers a query after settling");
  Reader r(*reply);
  co_return r.u64();
}

}  // namespace moonpool::examples::bugs
