// The bank on virtual actors (bank_sim.h) on the standard runner main.
//
//   bank_sim [--seeds=N] [--jobs=J] [--json=PATH] [--explore] [--fencing=leases|none]
//            [--profile=lean|first] [--accounts=N] ...
//
// --fencing=none runs the deliberately broken directory (no leases): the single-activation
// ALWAYS must fail. --profile=first replays the configuration bank_test's pinned seeds were
// found with (BankOptions::first()). Exit status as for every runner main: 0 pass, 1 a
// property failed, 2 bad flags.
#include "absl/flags/flag.h"
#include "bank_sim.h"
#include "moonpool/runner/main.h"

ABSL_FLAG(std::string, fencing, "leases", "leases (the design) or none (the broken variant)");
ABSL_FLAG(int32_t, accounts, 4, "accounts (2..64)");
ABSL_FLAG(std::string, profile, "lean",
          "lean (the suite's) or first (the pinned seeds': 200 ms pings, no wipes)");

namespace {

constexpr std::uint64_t kDefaultSeeds = 100;

absl::StatusOr<moonpool::SimulationBuilder> makeBuilder() {
  const std::string profile = absl::GetFlag(FLAGS_profile);
  if (profile != "lean" && profile != "first") {
    return absl::InvalidArgumentError("--profile must be 'lean' or 'first', got '" + profile +
                                      "'");
  }
  bank::BankOptions options =
      profile == "first" ? bank::BankOptions::first() : bank::BankOptions{};
  const std::string fencing = absl::GetFlag(FLAGS_fencing);
  if (fencing == "none") {
    options.fencing = moonpool::actors::Fencing::kNone;
  } else if (fencing != "leases") {
    return absl::InvalidArgumentError("--fencing must be 'leases' or 'none', got '" + fencing +
                                      "'");
  }
  options.accounts = absl::GetFlag(FLAGS_accounts);
  if (options.accounts < 2 || options.accounts > bank::BankOptions::kAccountsMax) {
    return absl::InvalidArgumentError("--accounts must be in [2, 64], got " +
                                      std::to_string(options.accounts));
  }
  moonpool::SimulationBuilder builder = bank::bankBuilder(options);
  builder.iterations(kDefaultSeeds);
  builder.guards(moonpool::Guards{.simTimeBudget = std::chrono::minutes(10)});
  return builder;
}

}  // namespace

int main(int argc, char** argv) { return moonpool::runMain(argc, argv, makeBuilder); }
