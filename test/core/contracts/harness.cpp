// The two conformance harnesses (see harness.h): a quiet SimWorld and a RealRuntime.
#include "harness.h"

#include <unistd.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <utility>

#include "moonpool/real/real_executor.h"
#include "moonpool/real/real_network.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/sim/world.h"
#include "support/command.h"

namespace moonpool::conformance {
namespace {

// Seeds every simulated contract case runs under: enough to vary the seeded scheduling
// choices (whenAny ties, ready-set order), few enough to stay fast.
inline constexpr std::array<std::uint64_t, 3> kSimSeeds = {1, 2, 3};

// The simulated peer host: outside the world's process range (10.0.1.N) and its root
// address (10.0.0.254).
inline constexpr IpAddress kSimPeerIp = IpAddress::fromOctets(10, 0, 3, 1);

Task<void> guarded(ContractEnv& env, ContractBody body) {
  co_await within(env.providers.time(), kContractDeadline, body(env), "contract case");
}

class SimHarness final : public Harness {
 public:
  RunOutcome run(ContractBody body) override {
    RunOutcome last;
    for (std::uint64_t seed : kSimSeeds) {
      last = runSeed(body, seed);
      if (!last.ok()) {
        last.message = "seed " + std::to_string(seed) + ": " + last.message;
        return last;
      }
    }
    return last;
  }

 private:
  static RunOutcome runSeed(ContractBody body, std::uint64_t seed) {
    Simulation sim(SimOptions{.seed = seed});
    WorldOptions options = WorldOptions::quiet();
    options.clock = ClockDriftOptions{};  // contracts hold with the default clock drift
    SimWorld world(sim, std::move(options));
    std::unique_ptr<NetworkProvider> peer = world.network().providerFor(kSimPeerIp);
    ContractEnv env{world.rootProviders(), *peer};
    return sim.run(guarded(env, body));
  }
};

class RealHarness final : public Harness {
 public:
  RunOutcome run(ContractBody body) override {
    // Per test and per process (a test binary may run twice at once under a stress loop);
    // removed afterwards so the build tree does not fill up.
    const std::string storageRoot = test_support::freshWorkDir(
        MOONPOOL_CONFORMANCE_WORK_DIR, "storage." + std::to_string(getpid()));
    RunOutcome outcome;
    {
      RealRuntime runtime(RealRuntimeOptions{.storageRoot = storageRoot});
      RealNetworkProvider peer(runtime.executor());
      ContractEnv env{runtime.providers(), peer};
      outcome = runtime.run(guarded(env, body));
    }
    std::error_code ignored;  // a leftover directory is harmless
    std::filesystem::remove_all(storageRoot, ignored);
    return outcome;
  }
};

}  // namespace

void PrintTo(const HarnessKind& kind, std::ostream* out) { *out << kind.name; }

std::vector<HarnessKind> allHarnesses() {
  return {
      HarnessKind{"Sim",
                  []() -> std::unique_ptr<Harness> { return std::make_unique<SimHarness>(); }},
      HarnessKind{"Real",
                  []() -> std::unique_ptr<Harness> { return std::make_unique<RealHarness>(); }},
  };
}

std::string harnessName(const testing::TestParamInfo<HarnessKind>& info) {
  return info.param.name;
}

void ContractTest::runContract(ContractBody body) {
  std::unique_ptr<Harness> harness = GetParam().make();
  const RunOutcome outcome = harness->run(body);
  EXPECT_TRUE(outcome.ok()) << GetParam().name << " run " << runStatusName(outcome.status)
                            << ": " << outcome.message;
}

}  // namespace moonpool::conformance
