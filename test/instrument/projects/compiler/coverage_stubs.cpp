// Test project: stand-ins for the inline-8bit-counters registration callbacks, which every
// instrumented program must link (the explorer's coverage runtime will provide them).
#include <cstdint>

extern "C" {
__attribute__((no_sanitize("coverage"))) void __sanitizer_cov_8bit_counters_init(uint8_t*,
                                                                                uint8_t*) {}
__attribute__((no_sanitize("coverage"))) void __sanitizer_cov_pcs_init(const uintptr_t*,
                                                                     const uintptr_t*) {}
}
