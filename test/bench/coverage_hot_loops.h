// Hot loops for coverage_bench (coverage_hot_loops.cpp), compiled three times from one source:
// namespace `base` uninstrumented, `guard` with trace-pc-guard, `counters` with
// inline-8bit-counters,pc-table (coverage_benches.cmake). Each returns a checksum so the work
// cannot be optimized away.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moonpool::covbench::base {
// Collatz trajectories of 1..count with a 4-way switch per step (latency-bound).
std::uint64_t collatzSwitch(std::uint64_t count);
// Classifies bytes (digit, upper, lower, space, other) with branches.
std::uint64_t classifyBytes(const std::uint8_t* data, std::size_t size);
}  // namespace moonpool::covbench::base

namespace moonpool::covbench::guard {
std::uint64_t collatzSwitch(std::uint64_t count);
std::uint64_t classifyBytes(const std::uint8_t* data, std::size_t size);
}  // namespace moonpool::covbench::guard

namespace moonpool::covbench::counters {
std::uint64_t collatzSwitch(std::uint64_t count);
std::uint64_t classifyBytes(const std::uint8_t* data, std::size_t size);
}  // namespace moonpool::covbench::counters
