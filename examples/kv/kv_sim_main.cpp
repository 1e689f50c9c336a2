// kv_sim: the replicated KV store under full chaos on the standard runner (kv_sim.h,
// kvBuilder): every runner flag works (--seeds, --jobs, --explore, --replay, --json, --junit,
// ...; --help lists them), plus the flags below.
#include <cstdint>

#include "absl/flags/flag.h"
#include "kv_sim.h"
#include "moonpool/runner/main.h"

ABSL_FLAG(int32_t, clients, 2, "client workload instances (1..32)");
ABSL_FLAG(double, chaos_s, 60, "simulated seconds of chaos per seed (1..3600)");
ABSL_FLAG(bool, chaos, true, "faults on (--nochaos: a quiet world, for baselines)");

int main(int argc, char** argv) {
  return moonpool::runMain(argc, argv, []() -> absl::StatusOr<moonpool::SimulationBuilder> {
    moonpool::kv::KvSimOptions options;
    const std::int32_t clients = absl::GetFlag(FLAGS_clients);
    if (clients < 1 || clients > static_cast<std::int32_t>(options.kClientsMax)) {
      return absl::InvalidArgumentError("--clients must be in [1, 32]");
    }
    const double chaos = absl::GetFlag(FLAGS_chaos_s);
    if (!(chaos >= 1 && chaos <= 3600)) {
      return absl::InvalidArgumentError("--chaos_s must be in [1, 3600]");
    }
    options.clients = static_cast<std::size_t>(clients);
    options.chaosFor = moonpool::Duration(static_cast<moonpool::Duration::rep>(chaos * 1e9));
    options.chaos = absl::GetFlag(FLAGS_chaos) ? moonpool::kv::KvSimOptions::Chaos::kOn
                                               : moonpool::kv::KvSimOptions::Chaos::kOff;
    return moonpool::kv::kvBuilder(options);
  });
}
