// bank_node: one process of the bank (examples/bank) on real providers: the very code the
// simulation runs (bank_node.h), over Cap'n Proto RPC on 127.0.0.1 and files under
// --data_dir.
//
//   bank_node --role=registry --port=7100 --hosts=127.0.0.1:7101,127.0.0.1:7102 --data_dir=D
//   bank_node --role=host --port=7101 --registry=127.0.0.1:7100 --data_dir=D1
//   bank_node --role=teller --port=7199 --registry=127.0.0.1:7100 --operations=60
//
// The registry keeps the accounts' state files in --data_dir and serves the directory, and
// prints where each of the --accounts accounts is placed whenever that changes ("[registry]
// acct-0 on 127.0.0.1:7101 (epoch 3)"); a host runs the actors placed on it; both run until
// killed. The teller runs --operations
// random operations (deposits, withdrawals, transfers, self-calls that must be refused), each
// asked again until answered, printing "operation N done" after each, then reads every
// account and prints its verdict: "money conserved" and exit 0, or each violation and exit
// 1. It also prints its slowest operation and how many of its calls were routed again (a
// host gone, a key re-placed). Everything goes to stderr, one line each.
// Exit status: 2 for bad flags; 1 a violation, or a role that stopped (a failed listen).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "bank.moonpool.h"
#include "bank_node.h"
#include "moonpool/real/real_executor.h"

ABSL_FLAG(std::string, role, "", "registry, host or teller");
ABSL_FLAG(int32_t, port, 0, "TCP port to listen on (127.0.0.1)");
ABSL_FLAG(std::string, registry, "", "the registry as ip:port (host, teller)");
ABSL_FLAG(std::string, hosts, "", "the bank hosts as ip:port,... (registry)");
ABSL_FLAG(std::string, data_dir, "bank-data", "directory for this process's files");
ABSL_FLAG(int32_t, operations, 50, "operations the teller runs (1..100000)");
ABSL_FLAG(int32_t, accounts, 4, "accounts (2..64)");
ABSL_FLAG(int32_t, pause_ms, 20, "the teller's pause between operations (0..10000)");

namespace {

using moonpool::NetAddress;
using moonpool::Providers;
using moonpool::Task;

constexpr int kOperationsMax = 100'000;
constexpr int kPauseMsMax = 10'000;

int fail(const std::string& message) {
  std::fprintf(stderr, "bank_node: %s\n", message.c_str());
  return 2;
}

moonpool::Task<void> runHost(Providers p, NetAddress self, NetAddress registry) {
  bank::Member member(p, self, self, registry, bank::BankOptions{}, bank::Member::Role::kHost);
  std::fprintf(stderr, "[host %s] serving\n", self.toString().c_str());
  co_await member.host->serve();
}

struct TellerConfig {
  NetAddress self;
  NetAddress registry;
  int operations = 0;
  int accounts = 0;
  moonpool::Duration pause{0};
  int* exitCode = nullptr;
};

moonpool::Task<void> runTeller(Providers p, TellerConfig config) {
  bank::BankOptions options;
  options.accounts = config.accounts;
  bank::Member member(p, config.self, config.self, config.registry, options,
                      bank::Member::Role::kClient);
  auto serving = p.tasks().spawn("teller host", member.host->serve());
  bank::Teller teller;
  teller.expected.assign(config.accounts, 0);
  teller.acked.assign(config.accounts, {});
  for (int i = 1; i <= config.operations; ++i) {
    co_await bank::oneOperation(teller, member.runtime, p, config.accounts);
    std::fprintf(stderr, "[teller] operation %d done\n", i);
    co_await p.time().sleep(config.pause);
  }
  const std::vector<std::string> violations =
      co_await bank::checkAccounts(teller, member.runtime, p, config.accounts);
  std::fprintf(stderr, "[teller] slowest operation: %lld ms\n",
               static_cast<long long>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(teller.slowest).count()));
  std::fprintf(stderr, "[teller] calls routed again: %llu\n",
               static_cast<unsigned long long>(member.cluster.stats().rerouted));
  for (const std::string& violation : violations) {
    std::fprintf(stderr, "[teller] VIOLATION: %s\n", violation.c_str());
  }
  if (violations.empty()) {
    std::fprintf(stderr, "[teller] money conserved: %lld in %d accounts\n",
                 static_cast<long long>(teller.deposited - teller.withdrawn), config.accounts);
  }
  *config.exitCode = violations.empty() ? 0 : 1;
  serving.cancel();
}

// Prints where each account is placed whenever that changes: "[registry] acct-0 on
// 127.0.0.1:7101 (epoch 3)", or "... on unplaced" once its placement is gone.
class PlacementPrinter {
 public:
  explicit PlacementPrinter(int accounts) : last_(accounts, "unplaced") {}

  void operator()(const moonpool::actors::DirectoryService& directory) {
    for (int a = 0; a < static_cast<int>(last_.size()); ++a) {
      const auto placement = directory.placementOf(
          moonpool::actors::ActorRef<bank::Account>::kTypeName,
          moonpool::actors::ActorKey(bank::accountKey(a)));
      const std::string now = placement ? placement->first.toString() + " (epoch " +
                                              std::to_string(placement->second) + ")"
                                        : std::string("unplaced");
      if (now == last_[a]) continue;
      last_[a] = now;
      std::fprintf(stderr, "[registry] %s on %s\n", bank::accountKey(a).c_str(), now.c_str());
    }
  }

 private:
  std::vector<std::string> last_;
};

// Parses "ip:port,ip:port" into `out`; an error names the flag.
std::string parseAddresses(const std::string& flag, const std::string& text,
                           std::vector<NetAddress>& out) {
  for (const std::string& part : std::vector<std::string>(absl::StrSplit(text, ','))) {
    moonpool::IoResult<NetAddress> parsed = NetAddress::parse(part);
    if (!parsed.ok()) return "--" + flag + ": " + parsed.error().toString();
    out.push_back(*parsed);
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("bank_node: one process of the moonpool bank example");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return fail(std::string("unexpected argument '") + rest[1] + "'");
  const std::string role = absl::GetFlag(FLAGS_role);
  const int port = absl::GetFlag(FLAGS_port);
  if (port < 1 || port > 65535) {
    return fail("--port must be in [1, 65535], got " + std::to_string(port));
  }
  const NetAddress self{moonpool::kLoopbackIp, static_cast<std::uint16_t>(port)};
  moonpool::RealRuntime runtime(
      moonpool::RealRuntimeOptions{.storageRoot = absl::GetFlag(FLAGS_data_dir)});
  moonpool::RunOutcome outcome;
  int exitCode = 1;
  if (role == "registry") {
    std::vector<NetAddress> hosts;
    if (std::string bad = parseAddresses("hosts", absl::GetFlag(FLAGS_hosts), hosts);
        !bad.empty()) {
      return fail(bad);
    }
    std::fprintf(stderr, "[registry %s] serving %zu hosts\n", self.toString().c_str(),
                 hosts.size());
    outcome = runtime.run(bank::runRegistry(runtime.providers(), self,
                                            bank::BankAddresses{.registry = self, .hosts = hosts},
                                            bank::BankOptions{},
                                            PlacementPrinter(absl::GetFlag(FLAGS_accounts))));
  } else if (role == "host" || role == "teller") {
    moonpool::IoResult<NetAddress> registry = NetAddress::parse(absl::GetFlag(FLAGS_registry));
    if (!registry.ok()) return fail("--registry: " + registry.error().toString());
    if (role == "host") {
      outcome = runtime.run(runHost(runtime.providers(), self, *registry));
    } else {
      const int operations = absl::GetFlag(FLAGS_operations);
      const int accounts = absl::GetFlag(FLAGS_accounts);
      const int pauseMs = absl::GetFlag(FLAGS_pause_ms);
      if (operations < 1 || operations > kOperationsMax) {
        return fail("--operations must be in [1, 100000], got " + std::to_string(operations));
      }
      if (accounts < 2 || accounts > bank::BankOptions::kAccountsMax) {
        return fail("--accounts must be in [2, 64], got " + std::to_string(accounts));
      }
      if (pauseMs < 0 || pauseMs > kPauseMsMax) {
        return fail("--pause_ms must be in [0, 10000], got " + std::to_string(pauseMs));
      }
      outcome = runtime.run(runTeller(
          runtime.providers(),
          TellerConfig{.self = self, .registry = *registry, .operations = operations,
                       .accounts = accounts, .pause = std::chrono::milliseconds(pauseMs),
                       .exitCode = &exitCode}));
      if (outcome.ok()) return exitCode;
    }
  } else {
    return fail("--role must be registry, host or teller, got '" + role + "'");
  }
  std::fprintf(stderr, "bank_node: the %s stopped: %s\n", role.c_str(), outcome.message.c_str());
  return 1;
}
