// Goal: the bank (examples/bank) as real processes, the same code the simulation tests
// (bank_node.h): a registry, three hosts and a teller over Cap'n Proto RPC on 127.0.0.1.
// A host holding an account is killed (SIGKILL) while the teller runs; the account must be
// re-placed on another host within kReplaceDeadline, the teller's operations must all be
// answered (none slower than kOperationDeadline), and its final reading of every account
// must find money conserved and no acknowledged operation lost.
// Method: bank_node processes (free ports, a data directory and a log each, test/capnp's
// NodeProcess: killed and reaped at the end whatever happens). The registry prints where
// each account is placed whenever it changes; the teller prints each operation, its slowest
// one and its verdict. Bounded: about 5 s when all goes well, kTellerDeadline at worst.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "moonpool/real/wall_clock.h"
#include "node_process.h"
#include "support/command.h"

namespace {

using namespace std::chrono_literals;
using moonpool::rpc_testing::NodeProcess;

constexpr int kHosts = 3;
constexpr int kOperations = 40;
constexpr auto kStartDeadline = 5s;
// Lease (1 s) and margin, the failure monitor (at most 1.6 s), and slack for a busy machine.
constexpr auto kReplaceDeadline = 8s;
// A call's deadline is 4 s (bank_node.cpp peerOptions); one operation may take a few
// attempts while its account is re-placed.
constexpr long kOperationDeadlineMs = 8000;
constexpr auto kTellerDeadline = 30s;

// Distinct free ports on 127.0.0.1.
std::vector<std::uint16_t> freePorts(int count) {
  std::set<std::uint16_t> ports;
  while (static_cast<int>(ports.size()) < count) ports.insert(moonpool::rpc_testing::freePort());
  return {ports.begin(), ports.end()};
}

std::string address(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// Where the registry's log last placed `account` ("" when nowhere yet).
std::string placementOf(const std::string& log, const std::string& account) {
  const std::regex line("\\[registry\\] " + account + " on (127\\.0\\.0\\.1:[0-9]+)");
  std::string last;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it) {
    last = (*it)[1];
  }
  return last;
}

class BankProcesses {
 public:
  BankProcesses() : dir_(moonpool::test_support::freshWorkDir(BANK_E2E_WORK_ROOT, "e2e")) {
    const std::vector<std::uint16_t> ports = freePorts(kHosts + 2);
    registryPort_ = ports[0];
    tellerPort_ = ports[1];
    std::string hosts;
    for (int i = 0; i < kHosts; ++i) {
      hostPorts_.push_back(ports[2 + i]);
      hosts += (i > 0 ? "," : "") + address(hostPorts_.back());
    }
    registry_ = start("registry", {"--role=registry", "--port=" + std::to_string(registryPort_),
                                   "--hosts=" + hosts});
    for (int i = 0; i < kHosts; ++i) {
      hostProcesses_.push_back(start(
          "host-" + std::to_string(i + 1),
          {"--role=host", "--port=" + std::to_string(hostPorts_[i]),
           "--registry=" + address(registryPort_)}));
    }
  }

  bool listening() const {
    if (!registry_->waitUntilListening(registryPort_, kStartDeadline)) return false;
    for (int i = 0; i < kHosts; ++i) {
      if (!hostProcesses_[i]->waitUntilListening(hostPorts_[i], kStartDeadline)) return false;
    }
    return true;
  }

  void startTeller() {
    teller_ = start("teller", {"--role=teller", "--port=" + std::to_string(tellerPort_),
                               "--registry=" + address(registryPort_),
                               "--operations=" + std::to_string(kOperations), "--pause_ms=20"});
  }

  // Kills (SIGKILL) the host listening at `where` and reaps it; false when none does.
  bool killHostAt(const std::string& where) {
    for (int i = 0; i < kHosts; ++i) {
      if (address(hostPorts_[i]) != where) continue;
      ::kill(hostProcesses_[i]->pid(), SIGKILL);
      while (hostProcesses_[i]->alive()) std::this_thread::sleep_for(10ms);
      return true;
    }
    return false;
  }

  NodeProcess& registry() { return *registry_; }
  NodeProcess& teller() { return *teller_; }

 private:
  std::unique_ptr<NodeProcess> start(const std::string& name, std::vector<std::string> args) {
    args.push_back("--data_dir=" + dir_ + "/" + name);
    return std::make_unique<NodeProcess>(NodeProcess::Options{
        .binary = BANK_NODE, .args = std::move(args), .logPath = dir_ + "/" + name + ".log",
        .descriptorsMax = std::nullopt});
  }

  std::string dir_;
  std::uint16_t registryPort_ = 0;
  std::uint16_t tellerPort_ = 0;
  std::vector<std::uint16_t> hostPorts_;
  // Destroyed in reverse: the teller first, the registry last (each killed and reaped).
  std::unique_ptr<NodeProcess> registry_;
  std::vector<std::unique_ptr<NodeProcess>> hostProcesses_;
  std::unique_ptr<NodeProcess> teller_;
};

TEST(BankE2e, AHostKilledMidRunLosesNoMoneyAndItsAccountsMove) {
  BankProcesses bank;
  ASSERT_TRUE(bank.listening()) << bank.registry().log();
  bank.startTeller();
  ASSERT_TRUE(bank.teller().waitForLog("operation 10 done", 10s)) << bank.teller().log();

  // The host of some account: the first account the registry placed.
  std::string account;
  std::string victim;
  for (int a = 0; a < 4 && victim.empty(); ++a) {
    account = "acct-" + std::to_string(a);
    victim = placementOf(bank.registry().log(), account);
  }
  ASSERT_FALSE(victim.empty()) << "no account placed yet:\n" << bank.registry().log();
  const moonpool::WallTimer sinceKill;
  ASSERT_TRUE(bank.killHostAt(victim)) << victim;

  // Re-placed: the registry places the account on another host once its lease has run out.
  std::string now = victim;
  while (now == victim && sinceKill.elapsed() < kReplaceDeadline) {
    std::this_thread::sleep_for(20ms);
    now = placementOf(bank.registry().log(), account);
  }
  EXPECT_NE(now, victim) << account << " was not re-placed within the deadline:\n"
                         << bank.registry().log();
  std::printf("%s re-placed from %s to %s in %lld ms\n", account.c_str(), victim.c_str(),
              now.c_str(),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(sinceKill.elapsed())
                      .count()));

  ASSERT_TRUE(bank.teller().waitForLog("[teller] money conserved", kTellerDeadline))
      << bank.teller().log();
  const std::string log = bank.teller().log();
  EXPECT_FALSE(moonpool::test_support::contains(log, "VIOLATION")) << log;
  EXPECT_TRUE(moonpool::test_support::contains(
      log, "operation " + std::to_string(kOperations) + " done"))
      << log;
  std::smatch slowest;
  ASSERT_TRUE(std::regex_search(log, slowest, std::regex("slowest operation: ([0-9]+) ms")))
      << log;
  EXPECT_LT(std::stol(slowest[1]), kOperationDeadlineMs) << log;
  std::printf("teller: slowest operation %s ms\n", std::string(slowest[1]).c_str());
  while (bank.teller().alive()) std::this_thread::sleep_for(10ms);  // it exits on its own
}

// Bad flags are refused with exit status 2 and the reason.
TEST(BankE2e, BadFlagsAreRefused) {
  using moonpool::test_support::runCommand;
  for (const char* flags : {"--role=nobody --port=1", "--role=host --port=0",
                            "--role=host --port=7 --registry=nowhere",
                            "--role=teller --port=7 --registry=127.0.0.1:1 --operations=0",
                            "--role=registry --port=7 --hosts=127.0.0.1:x"}) {
    const moonpool::test_support::CommandResult result =
        runCommand(std::string(BANK_NODE) + " " + flags + " 2>&1");
    EXPECT_EQ(result.exitCode, 2) << flags << ": " << result.output;
    EXPECT_TRUE(moonpool::test_support::contains(result.output, "bank_node: --"))
        << flags << ": " << result.output;
  }
}

}  // namespace
