// "Your first service": the same service between two real processes over TCP.
//
//   tally_node serve <port file> <seconds>   serve on 127.0.0.1 (a free port, written to
//                                            <port file>) for <seconds>, then exit
//   tally_node call <port> <name> <amount>   add through the generated remote, print totals
//
// Exit codes: 0 done, 1 an RPC or I/O error, 2 bad arguments.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "moonpool/combinators.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/rpc/host.h"
#include "moonpool/rpc/peer.h"
#include "tally.moonpool.h"
#include "tally_impl.h"

namespace {

using moonpool::Task;

Task<void> serve(moonpool::Providers providers, std::string portFile, int seconds) {
  guide::TallyImpl tally;
  auto host = moonpool::rpc::Host::listen(providers, {moonpool::kLoopbackIp, 0}).orThrow();
  host->add(guide::schema::TallyServer::kServiceName,
            kj::heap<guide::schema::TallyServer>(tally, &host->calls()));
  std::ofstream(portFile) << host->localAddress().port << "\n";
  co_await moonpool::whenAny(host->serve(), providers.time().sleep(std::chrono::seconds(seconds)));
}

Task<void> call(moonpool::Providers providers, std::uint16_t port, std::string name,
                std::int64_t amount) {
  moonpool::rpc::Peer peer(providers, {moonpool::kLoopbackIp, port});
  guide::schema::TallyRemote tally(peer);
  const std::int64_t total = co_await tally.add(guide::Entry{.name = name, .amount = amount});
  const std::int64_t again = co_await tally.total(name);  // idempotent: resent if need be
  std::printf("added %lld: total %lld (read back %lld)\n", static_cast<long long>(amount),
              static_cast<long long>(total), static_cast<long long>(again));
}

int usage() {
  std::fprintf(stderr,
               "usage: tally_node serve <port file> <seconds>\n"
               "       tally_node call <port> <name> <amount>\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  moonpool::RealRuntime runtime;
  moonpool::RunOutcome outcome;
  if (mode == "serve" && argc == 4) {
    outcome = runtime.run(serve(runtime.providers(), argv[2], std::atoi(argv[3])));
  } else if (mode == "call" && argc == 5) {
    const int port = std::atoi(argv[2]);
    if (port < 1 || port > 65535) return usage();
    outcome = runtime.run(call(runtime.providers(), static_cast<std::uint16_t>(port), argv[3],
                               std::atoll(argv[4])));
  } else {
    return usage();
  }
  if (!outcome.ok()) {
    std::fprintf(stderr, "tally_node: %s\n", outcome.message.c_str());
    return 1;
  }
  return 0;
}
