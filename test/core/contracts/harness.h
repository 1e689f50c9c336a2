// Conformance harness: one provider contract, run against the simulated and the real
// implementation (test/core/contracts).
//
// A contract case is a coroutine `Task<void> body(ContractEnv&)` written only against the
// provider interfaces. A Harness builds one world, runs the body to completion under a
// generous deadline, and returns the run's outcome:
//   - "Sim":  Simulation + SimWorld with a quiet network, fast storage and buggify off; the
//             body runs on the root group (10.0.0.254), the peer host is another IP of the
//             same SimNetwork. Every case runs under several seeds (kSimSeeds), so seeded
//             scheduling choices vary.
//   - "Real": RealRuntime on 127.0.0.1 (port 0 listeners only), a fresh storage directory
//             per test, and a second RealNetworkProvider as the peer host.
// Test suites derive from ContractTest and are instantiated with both harnesses:
//   INSTANTIATE_TEST_SUITE_P(Providers, MyContract, testing::ValuesIn(allHarnesses()),
//                            harnessName);
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "moonpool/run_outcome.h"
#include "moonpool/task.h"

namespace moonpool::conformance {

// What a contract case runs with. Both references live until the body's Task ends.
struct ContractEnv {
  // All five providers; `providers.network()` is the local host.
  Providers providers;
  // A second host on the same network: another IP in simulation, the same loopback stack
  // in production. Connections between the two hosts are what the network contract tests.
  NetworkProvider& peerNetwork;
};

using ContractBody = Task<void> (*)(ContractEnv& env);

// A contract case that has not ended after this long (simulated or wall time) fails with
// a timeout naming the harness, instead of hanging the test binary.
inline constexpr Duration kContractDeadline = std::chrono::seconds(20);

class Harness {
 public:
  virtual ~Harness() = default;
  // Runs `body` in a fresh world; the outcome of the first run that did not complete, else
  // the last one.
  virtual RunOutcome run(ContractBody body) = 0;
};

struct HarnessKind {
  std::string name;  // "Sim" or "Real": the test name suffix
  std::unique_ptr<Harness> (*make)();
};

// gtest prints parameters with this (the name alone).
void PrintTo(const HarnessKind& kind, std::ostream* out);

std::vector<HarnessKind> allHarnesses();
std::string harnessName(const testing::TestParamInfo<HarnessKind>& info);

class ContractTest : public testing::TestWithParam<HarnessKind> {
 protected:
  // Runs `body` with this test's harness and expects the run to complete.
  void runContract(ContractBody body);
};

}  // namespace moonpool::conformance
