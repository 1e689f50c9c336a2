// The SanitizerCoverage runtime's layout (instrument/coverage, layer: instrument; libc only).
//
// Code built with moonpool_enable_coverage() (cmake/MoonpoolCoverage.cmake) or the
// moonpool-clang++ wrapper calls into sancov_runtime.cpp, which numbers its edges and
// registers itself with the explorer as the process's EdgeSource
// (moonpool/explorer/edges.h). The explorer needs nothing from this header: it is for
// reports, the coverage viewer and tests, which want to know how the edge map is laid out
// and which program counters the counters stand for.
//
// Edge map (the slot the explorer hands to beginTimeline/endTimeline), edgeCount() bytes:
//
//   [0]                       sink: guards that are not numbered (see below); 0 normally
//   [1 .. guards]             trace-pc-guard: guard g counts at [g] (saturating u8)
//   [guardPart() ..]          inline-8bit-counters: the modules' counters, in module order
//                             (u8 that wrap: 256 hits read as 0, as in libFuzzer)
//
// The guard part (sink + guards) exists only when some module uses trace-pc-guard. The layout
// is fixed by the first EdgeSource::edgeCount() or beginTimeline() call (the explorer sizes
// its slots from edgeCount()). A module initializing later (dlopen of instrumented code) is
// left out: its guards stay unnumbered (0, counting into the sink), its counters unrecorded,
// one line on stderr.
//
// Everything here is fixed once static initialization is over; the functions only read
// constant-initialized globals and may be called at any time, also before main.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace moonpool::coverage {

// Instrumented modules (executables and shared objects) one process can hold, per mode.
inline constexpr std::uint32_t kModulesMax = 32;
// Modules with trace-pc-guard guards one process can hold (their table, for the coverage
// viewer, is a few words each: a larger bound than the counter modules' copy buffers need).
inline constexpr std::uint32_t kGuardModulesMax = 256;
// Numbered trace-pc-guard guards one process can hold (the private map before any timeline
// has this many bytes, plus the sink).
inline constexpr std::uint32_t kGuardsMax = std::uint32_t{1} << 22;

struct Layout {
  std::uint32_t guards = 0;          // numbered guards (edge ids 1..guards)
  std::uint32_t guardModules = 0;    // modules whose guards were numbered
  std::size_t guardPart = 0;         // guards + 1 (the sink) when guards > 0, else 0
  std::size_t counters = 0;          // inline 8-bit counters over all modules
  std::uint32_t counterModules = 0;  // modules with inline 8-bit counters
  std::uint32_t pcTables = 0;        // recorded pc tables (one per counter module)
  std::uint32_t guardPcTables = 0;   // recorded pc tables of guard modules
  std::uint32_t lateModules = 0;     // init calls ignored: they came after the layout was fixed
};

// One entry of a module's pc table (-fsanitize-coverage=pc-table): the program counter of the
// block whose counter has the same index; kFunctionEntry in flags marks a function's entry.
struct PcEntry {
  std::uintptr_t pc;
  std::uintptr_t flags;
};
inline constexpr std::uintptr_t kFunctionEntry = 1;

Layout layout();

// The counters of counter module `index` (< layout().counterModules), in map order; empty
// past the end.
std::span<const std::uint8_t> counterModule(std::uint32_t index);

// The pc table of counter module `index` (< layout().pcTables); empty past the end. Entry i
// describes counter i of the same module.
std::span<const PcEntry> pcTable(std::uint32_t index);

// A module whose guards were numbered (trace-pc-guard): its guards are firstGuard ..
// firstGuard + guards - 1. `pcs` is its pc table (-fsanitize-coverage=trace-pc-guard,pc-table:
// entry i is the block of guard firstGuard + i), empty when the module was built without one
// or when both modes share the binary (the compiler then emits one table for both, matching
// neither). `anchor` is an address inside the module (its guard array), to find the module's
// file and load address.
struct GuardModule {
  std::uint32_t firstGuard = 0;
  std::uint32_t guards = 0;
  std::span<const PcEntry> pcs{};
  const void* anchor = nullptr;
};
// Module `index` (< layout().guardModules); an empty GuardModule past the end.
GuardModule guardModule(std::uint32_t index);

}  // namespace moonpool::coverage
