// The SanitizerCoverage runtime (instrument/coverage): the callbacks that code compiled with
// -fsanitize-coverage=trace-pc-guard or inline-8bit-counters,pc-table calls, and the
// process's EdgeSource for the explorer (moonpool/explorer/edges.h). Map layout and the
// introspection API: moonpool/coverage/coverage.h.
//
// Constraints, all for the same reason: the callbacks run from the instrumented modules'
// constructors (priority 2, before any ordinary constructor, possibly before this file's)
// and from every instrumented block afterwards.
//   - This file is never compiled with coverage flags (it would call itself) and the
//     callbacks carry no_sanitize("coverage") in case someone adds the flags globally.
//   - Only constant-initialized globals (constinit): nothing here may depend on a
//     constructor having run. No heap, no locks, libc only (write(2) for diagnostics).
//   - The hot path (__sanitizer_cov_trace_pc_guard) is a load, an add and a store. gMap is
//     never null: it starts at a private buffer, so counts before, between or outside
//     timelines land somewhere harmless instead of being lost or crashing.
// Single-threaded by design, like the simulations it serves: concurrent hits from other
// threads may lose increments (never memory safety: gMap only ever points at a map large
// enough for every numbered guard).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "moonpool/coverage/coverage.h"
#include "moonpool/explorer/edges.h"
#include "moonpool/explorer/recording.h"
#include "recording_writer.h"

namespace moonpool::coverage {
namespace {

enum class Phase : std::uint8_t {
  kOpen,    // modules may still register
  kFrozen,  // edgeCount() was read or a timeline began: the map layout is fixed
};

struct GuardModuleRecord {
  std::uint32_t* begin = nullptr;
  std::uint32_t firstGuard = 0;
  std::uint32_t guards = 0;
  const PcEntry* pcsBegin = nullptr;
  const PcEntry* pcsEnd = nullptr;
};

struct CounterModule {
  std::uint8_t* begin = nullptr;
  std::uint8_t* end = nullptr;
  const PcEntry* pcsBegin = nullptr;
  const PcEntry* pcsEnd = nullptr;
};

// Counts outside timelines (and before the first): index 0 is the sink, 1..kGuardsMax the
// guards. Zero-initialized .bss: pages are only backed once touched.
constinit std::uint8_t gPrivateMap[kGuardsMax + 1] = {};
// Where trace-pc-guard hits go: the private map, or the current timeline's slot.
constinit std::uint8_t* gMap = gPrivateMap;

constinit std::uint32_t gGuards = 0;
constinit std::uint32_t gGuardModules = 0;
constinit GuardModuleRecord gGuardModuleTable[kGuardModulesMax] = {};
constinit CounterModule gCounterModules[kModulesMax] = {};
constinit std::uint32_t gCounterModuleCount = 0;
constinit std::size_t gCounters = 0;
constinit std::uint32_t gLateModules = 0;
constinit Phase gPhase = Phase::kOpen;

void writeStderr(const char* text) {
  ssize_t ignored = write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;  // nothing to do if stderr is gone
}

[[noreturn]] void fatal(const char* message) {
  writeStderr("moonpool coverage: ");
  writeStderr(message);
  writeStderr("\n");
  std::abort();
}

std::size_t guardPart() { return gGuards == 0 ? 0 : std::size_t{gGuards} + 1; }

// An init call once the layout is fixed: its edges would not fit the slots the explorer has
// already sized from edgeCount(), so they are left out (guards stay 0: the sink).
bool refuseLateModule() {
  if (gPhase == Phase::kOpen) return false;
  if (gLateModules++ == 0) {
    writeStderr(
        "moonpool coverage: an instrumented module initialized after the edge map was sized "
        "(dlopen?); its edges are not counted\n");
  }
  return true;
}

const char* modeName() {
  if (gGuards > 0 && gCounters > 0) return "trace-pc-guard+inline-8bit-counters";
  if (gCounters > 0) return "inline-8bit-counters";
  if (gGuards > 0) return "trace-pc-guard";
  return "none";
}

// The explorer sizes its slots from this: no module may add edges afterwards.
std::size_t edgeCount() {
  gPhase = Phase::kFrozen;
  return guardPart() + gCounters;
}

void beginTimeline(std::uint8_t* slot) {
  gPhase = Phase::kFrozen;
  // A null slot (not the explorer's contract) keeps counting privately rather than crash.
  if (gGuards > 0 && slot != nullptr) gMap = slot;
  // The counters live in the binary's own data: private to this process after fork.
  for (std::uint32_t i = 0; i < gCounterModuleCount; ++i) {
    const CounterModule& module = gCounterModules[i];
    std::memset(module.begin, 0, static_cast<std::size_t>(module.end - module.begin));
  }
}

void endTimeline(std::uint8_t* slot) {
  gMap = gPrivateMap;  // later hits must not land in a slot the explorer may reuse
  if (slot == nullptr) return;
  std::uint8_t* out = slot + guardPart();
  for (std::uint32_t i = 0; i < gCounterModuleCount; ++i) {
    const CounterModule& module = gCounterModules[i];
    const auto size = static_cast<std::size_t>(module.end - module.begin);
    std::memcpy(out, module.begin, size);
    out += size;
  }
}

constinit const explorer::EdgeSource kSource{
    .mode = modeName,
    .edgeCount = edgeCount,
    .beginTimeline = beginTimeline,
    .endTimeline = endTimeline,
};

// What --coverage_dir needs (recording_writer.cpp); registered with the edge source.
constinit const explorer::RecordingHooks kRecordingHooks{
    .write = internal::writeCoverageDir,
};

void registerOnce() {
  static constinit bool registered = false;
  if (registered) return;
  registered = true;
  explorer::registerEdgeSource(&kSource);
  explorer::registerRecordingHooks(&kRecordingHooks);
}

}  // namespace

Layout layout() {
  std::uint32_t pcTables = 0;
  for (std::uint32_t i = 0; i < gCounterModuleCount; ++i) {
    if (gCounterModules[i].pcsBegin != nullptr) ++pcTables;
  }
  std::uint32_t guardPcTables = 0;
  for (std::uint32_t i = 0; i < gGuardModules; ++i) {
    if (gGuardModuleTable[i].pcsBegin != nullptr) ++guardPcTables;
  }
  return Layout{.guards = gGuards,
                .guardModules = gGuardModules,
                .guardPart = guardPart(),
                .counters = gCounters,
                .counterModules = gCounterModuleCount,
                .pcTables = pcTables,
                .guardPcTables = guardPcTables,
                .lateModules = gLateModules};
}

std::span<const std::uint8_t> counterModule(std::uint32_t index) {
  if (index >= gCounterModuleCount) return {};
  const CounterModule& module = gCounterModules[index];
  return {module.begin, module.end};
}

std::span<const PcEntry> pcTable(std::uint32_t index) {
  if (index >= gCounterModuleCount || gCounterModules[index].pcsBegin == nullptr) return {};
  return {gCounterModules[index].pcsBegin, gCounterModules[index].pcsEnd};
}

GuardModule guardModule(std::uint32_t index) {
  if (index >= gGuardModules) return {};
  const GuardModuleRecord& module = gGuardModuleTable[index];
  return GuardModule{.firstGuard = module.firstGuard,
                     .guards = module.guards,
                     .pcs = module.pcsBegin == nullptr
                                ? std::span<const PcEntry>()
                                : std::span<const PcEntry>(module.pcsBegin, module.pcsEnd),
                     .anchor = module.begin};
}

}  // namespace moonpool::coverage

namespace cov = moonpool::coverage;

// Called by each instrumented module's constructor with its guard array, possibly several
// times for the same array. Numbers the module's guards after those already numbered, so ids
// are global: guard g counts at map[g], 1 <= g <= guards (0 is the sink).
extern "C" __attribute__((no_sanitize("coverage"))) void __sanitizer_cov_trace_pc_guard_init(
    std::uint32_t* start, std::uint32_t* stop) {
  if (start == stop || *start != 0) return;  // empty, or numbered by an earlier call
  if (stop < start) cov::fatal("trace-pc-guard init with a reversed guard range");
  if (cov::refuseLateModule()) return;
  const auto count = static_cast<std::size_t>(stop - start);
  if (count > cov::kGuardsMax - cov::gGuards) {
    cov::fatal("more than kGuardsMax trace-pc-guard guards; raise kGuardsMax in "
               "moonpool/coverage/coverage.h");
  }
  if (cov::gGuardModules == cov::kGuardModulesMax) {
    cov::fatal("more than kGuardModulesMax modules with trace-pc-guard guards; raise "
               "kGuardModulesMax in moonpool/coverage/coverage.h");
  }
  cov::gGuardModuleTable[cov::gGuardModules] = {.begin = start,
                                                .firstGuard = cov::gGuards + 1,
                                                .guards = static_cast<std::uint32_t>(count)};
  for (std::uint32_t* guard = start; guard < stop; ++guard) *guard = ++cov::gGuards;
  ++cov::gGuardModules;
  cov::registerOnce();
}

// The hot path: one call per instrumented edge executed.
extern "C" __attribute__((no_sanitize("coverage"))) void __sanitizer_cov_trace_pc_guard(
    std::uint32_t* guard) {
  std::uint8_t* counter = cov::gMap + *guard;
  const std::uint8_t hits = *counter;
  *counter = static_cast<std::uint8_t>(hits + (hits != 0xFF));  // saturates at 255
}

// inline-8bit-counters: the compiler increments the counters itself; we only record where
// each module's array is (possibly several calls for the same array).
extern "C" __attribute__((no_sanitize("coverage"))) void __sanitizer_cov_8bit_counters_init(
    std::uint8_t* start, std::uint8_t* stop) {
  if (start == stop) return;
  if (stop < start) cov::fatal("inline-8bit-counters init with a reversed counter range");
  for (std::uint32_t i = 0; i < cov::gCounterModuleCount; ++i) {
    if (cov::gCounterModules[i].begin == start) return;
  }
  if (cov::refuseLateModule()) return;
  if (cov::gCounterModuleCount == cov::kModulesMax) {
    cov::fatal("more than kModulesMax modules with inline 8-bit counters; raise kModulesMax "
               "in moonpool/coverage/coverage.h");
  }
  cov::gCounterModules[cov::gCounterModuleCount++] = {.begin = start, .end = stop};
  cov::gCounters += static_cast<std::size_t>(stop - start);
  cov::registerOnce();
}

// pc-table: one (pc, flags) pair per counter, passed right after the module's counters.
// Attached to the latest counter module of the same size that has no table yet.
extern "C" __attribute__((no_sanitize("coverage"))) void __sanitizer_cov_pcs_init(
    const std::uintptr_t* beg, const std::uintptr_t* end) {
  if (cov::gPhase == cov::Phase::kFrozen) return;  // its counters were refused already
  if (end < beg || (end - beg) % 2 != 0) cov::fatal("pc table is not a list of (pc, flags) pairs");
  const auto* pcsBegin = reinterpret_cast<const cov::PcEntry*>(beg);
  const auto* pcsEnd = reinterpret_cast<const cov::PcEntry*>(end);
  // trace-pc-guard,pc-table: the module's constructor numbers its guards, then passes its table.
  for (std::uint32_t i = cov::gGuardModules; i-- > 0;) {
    cov::GuardModuleRecord& module = cov::gGuardModuleTable[i];
    if (module.pcsBegin == pcsBegin) return;  // a repeated call
    if (module.pcsBegin != nullptr || pcsEnd - pcsBegin != module.guards) continue;
    module.pcsBegin = pcsBegin;
    module.pcsEnd = pcsEnd;
    return;
  }
  for (std::uint32_t i = cov::gCounterModuleCount; i-- > 0;) {
    cov::CounterModule& module = cov::gCounterModules[i];
    if (module.pcsBegin == pcsBegin) return;  // a repeated call
    if (module.pcsBegin != nullptr || pcsEnd - pcsBegin != module.end - module.begin) continue;
    module.pcsBegin = pcsBegin;
    module.pcsEnd = pcsEnd;
    return;
  }
}

// Link anchor. Sanitizer runtimes (ASan, UBSan) carry weak no-op definitions of the
// callbacks above, so a binary linked with -fsanitize=... has none of them undefined and the
// linker would never pull this object out of the static archive: the user code's edges would
// go to the no-ops. moonpool::coverage asks the linker for this symbol (--undefined), which
// pulls the object in, and its strong definitions then win over the weak ones.
extern "C" const int moonpool_coverage_runtime_anchor = 1;
