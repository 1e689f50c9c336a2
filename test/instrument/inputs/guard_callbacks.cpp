// Test input: trace-pc-guard callbacks (the real ones arrive with the explorer's coverage
// runtime). Built without coverage; the attribute keeps them uninstrumented regardless.
#include <cstdint>

extern "C" {
__attribute__((no_sanitize("coverage"))) void __sanitizer_cov_trace_pc_guard_init(
    uint32_t* start, uint32_t* stop) {
  uint32_t next = 1;
  for (uint32_t* guard = start; guard < stop; ++guard) *guard = next++;
}
__attribute__((no_sanitize("coverage"))) void __sanitizer_cov_trace_pc_guard(uint32_t*) {}
// The wrapper adds pc-table to trace-pc-guard: the module constructor registers its table.
__attribute__((no_sanitize("coverage"))) void __sanitizer_cov_pcs_init(const uintptr_t*,
                                                                      const uintptr_t*) {}
}
