// test/coverage: the instrumented target code (branches.cpp), built twice from one source:
// namespace `guard` with trace-pc-guard, namespace `counters` with inline-8bit-counters.
#pragma once

#include <cstdint>

namespace moonpool::covtest::guard {
// One distinct path per class of input: x < 0, x == 0, even, odd > 100, other odd.
int classify(int x);
// A loop body run `iterations` times (< 256, so 8-bit counts do not wrap).
int loop(int iterations);
}  // namespace moonpool::covtest::guard

namespace moonpool::covtest::counters {
int classify(int x);
int loop(int iterations);
}  // namespace moonpool::covtest::counters
