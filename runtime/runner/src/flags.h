// A strict command-line parser over Abseil's flag registry (runtime/ runner layer, private).
//
// Why not absl::ParseCommandLine: it exits with status 1 on a bad flag, and the runner's
// contract is exit 2 for usage errors with one clear line. This parser uses the public
// registry (FindCommandLineFlag, CommandLineFlag::ParseFrom) and returns errors as values.
// Accepted forms: --name=value, --name value (non-bool), --name and --noname (bool), and a
// single leading dash for any of them. Also:
//   --flagfile=PATH    the flags in PATH, one per line (blank lines and lines starting with
//                      '#' ignored; nested flagfiles up to kFlagfileDepthMax), in place;
//   --fromenv=a,b      --a=$FLAGS_a --b=$FLAGS_b (each variable must be set);
//   --version          ParsedCommandLine::version (the caller prints it).
// Not accepted: positional arguments and the other Abseil built-ins (an error says so).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "moonpool/explorer/explorer.h"

namespace moonpool::internal {

struct ParsedCommandLine {
  enum class Help : std::uint8_t { kNo, kYes };
  Help help = Help::kNo;
  enum class Version : std::uint8_t { kNo, kYes };
  Version version = Version::kNo;
  // Names of the flags given, in order of first appearance (dashes and "no" removed).
  std::vector<std::string> given{};
};

inline constexpr int kFlagfileDepthMax = 8;
inline constexpr std::size_t kFlagfileBytesMax = std::size_t{1} << 20;

absl::Status parseCommandLine(int argc, char** argv, ParsedCommandLine& out);

// "--name=<current value>" for each flag of `given` that is not in `exclude`.
std::vector<std::string> flagsAsGiven(const std::vector<std::string>& given,
                                      const std::vector<std::string>& exclude);

// The explorer's tuning flags (--explore_batch, ...; explorer/README.md "Knobs"): their names,
// and the config with those of them given applied (an error names a bad value).
const std::vector<std::string>& explorerTuningFlagNames();
absl::Status applyExplorerTuningFlags(const std::vector<std::string>& given,
                                      explorer::Config& config);

// Every flag of the binary except Abseil's own, sorted by name, with help and default.
std::string usageText(const std::string& program, const std::string& title);

}  // namespace moonpool::internal
