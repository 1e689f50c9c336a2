// The main of every bug of the corpus (see bug_main.h).
#include "bug_main.h"

#include <string>

#include "absl/flags/flag.h"
#include "moonpool/runner/main.h"

ABSL_FLAG(std::string, variant, "buggy",
          "buggy: the protocol with its planted mistake; fixed: the corrected protocol");

namespace moonpool::examples::bugs {

absl::StatusOr<Variant> parseVariant(std::string_view text) {
  if (text == "buggy") return Variant::kBuggy;
  if (text == "fixed") return Variant::kFixed;
  return absl::InvalidArgumentError("--variant must be 'buggy' or 'fixed', got '" +
                                    std::string(text) + "'");
}

int runBugMain(int argc, char** argv, BugBuilder makeBuilder, BugDefaults defaults) {
  return runMain(argc, argv, [makeBuilder, defaults]() -> absl::StatusOr<SimulationBuilder> {
    absl::StatusOr<Variant> variant = parseVariant(absl::GetFlag(FLAGS_variant));
    if (!variant.ok()) return variant.status();
    SimulationBuilder builder = makeBuilder(*variant);
    builder.iterations(defaults.seeds);
    return builder;
  });
}

}  // namespace moonpool::examples::bugs
