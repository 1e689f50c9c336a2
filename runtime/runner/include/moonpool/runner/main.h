// The standard main of a simulation binary (runtime/ runner layer, public).
//
//   int main(int argc, char** argv) {
//     return moonpool::runMain(argc, argv, [] { return makeBuilder(absl::GetFlag(FLAGS_nodes)); });
//   }
//
// Flags (Abseil flags; the binary's own ABSL_FLAGs are accepted too and listed by --help):
//   --seed=S          run only seed S (a replay: the line a failing seed prints)
//   --seeds=N         run N seeds (alias --iterations=N); default: the builder's control
//   --first_seed=S    generated seeds start at S (a number, or "random": from the OS)
//   --time_budget=T   run seeds for T wall seconds (at most --seeds if given)
//   --jobs=J          J worker processes (fork), each running every J-th seed
//   --json=PATH       also write the report as JSON to PATH ('-': stdout, and the text
//                     report goes to stderr)
//   --verbose         one line per seed in the report
//   --trace           record the timeline's trace lines; print the trace of each failing
//                     seed (and of the --seed run)
//   --junit=PATH      also write the report as JUnit XML (REPORT_FORMATS.md)
//   --progress        progress from the start (--noprogress: none). By default stderr shows
//                     a live line on a terminal, and otherwise a pulse line every
//                     --progress_every seconds (default 10) once the run is 3 s old
//   --build=ID        the build a reproduction line names: another build is refused (exit 2)
//                     unless --allow_build_mismatch
//   --flagfile=PATH   flags read from PATH, one per line ('#' comments)
//   --fromenv=a,b     flags read from the environment variables FLAGS_a, FLAGS_b
//   --version         the moonpool version and the build id, then exit 0
//   --replay=RECIPE   replay one explored timeline (the line a bug found by exploration
//                     prints): its root seed, reseeded at each step, in this process
//   --explore         explore each seed: fork timelines at discoveries (--noexplore: plain
//                     seeds even when the builder explores). Then --jobs=J is the number
//                     of timelines computing at once, and these apply:
//   --energy=N        timelines each seed may fork
//   --edge_coverage   edge-counter novelty counts as progress (default true)
//   --stop_at_first_bug  end the run at its first bug (any run; exploring: fork no more)
//   --shard=I/N       run only shard I of N: the seeds (or explored roots) at indices i with
//                     i % N == I; moonpool-merge combines the N JSON reports
//
// Flags are parsed strictly (no abbreviations, no positional arguments). A bad flag, a bad
// value or a builder factory error prints one clear line and exits 2 (4 when --build names
// another build). Otherwise the exit code is RunReport::exitCode(): 0 when every seed and
// contract passed, 1 for a bug (a failing seed or a broken invariant), 3 for a coverage gap
// without a bug, 130 when SIGINT or SIGTERM stopped the run (the report and --json/--junit
// files then cover the seeds finished). REPORT_FORMATS.md tabulates them. Each failing
// seed is printed as soon as it fails ("FAILED seed S: ..." and its reproduction line, on
// stdout; on stderr with --json=-).
//
// Reproduction lines: "<argv[0]> --seed=S <flags> --build=<id>", where <flags> are the
// binary's own flags given on the command line (they may change behaviour); runner flags
// are left out. See runner/report.h.
#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "moonpool/runner/builder.h"

namespace moonpool {

// Makes the builder once flags are parsed, so it can depend on the binary's own flags. An
// error status is a usage error (exit 2), printed with its message.
using BuilderFactory = std::function<absl::StatusOr<SimulationBuilder>()>;

int runMain(int argc, char** argv, BuilderFactory makeBuilder);
int runMain(int argc, char** argv, SimulationBuilder builder);

}  // namespace moonpool
