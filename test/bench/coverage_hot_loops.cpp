// Hot loops for coverage_bench (see coverage_hot_loops.h). COVBENCH_NS names the copy.
// toolchain.md §4 measured the same shapes: a latency-bound loop (Collatz + switch), and a
// byte classifier whose branches are predictable or random depending on its input.
#include "coverage_hot_loops.h"

namespace moonpool::covbench::COVBENCH_NS {

std::uint64_t collatzSwitch(std::uint64_t count) {
  std::uint64_t total = 0;
  for (std::uint64_t start = 1; start <= count; ++start) {
    std::uint64_t n = start;
    while (n != 1) {
      n = (n & 1) != 0 ? 3 * n + 1 : n / 2;
      switch (n & 3) {
        case 0:
          total += 1;
          break;
        case 1:
          total ^= n;
          break;
        case 2:
          total += n >> 3;
          break;
        default:
          total -= 7;
          break;
      }
    }
  }
  return total;
}

std::uint64_t classifyBytes(const std::uint8_t* data, std::size_t size) {
  std::uint64_t digits = 0, upper = 0, lower = 0, spaces = 0, other = 0;
  for (std::size_t i = 0; i < size; ++i) {
    const std::uint8_t c = data[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c >= 'A' && c <= 'Z') {
      upper += 1;
    } else if (c >= 'a' && c <= 'z') {
      lower ^= c;
    } else if (c == ' ' || c == '\n') {
      spaces += 2;
    } else {
      other += c >> 2;
    }
  }
  return digits * 31 + upper * 17 + lower * 7 + spaces * 3 + other;
}

}  // namespace moonpool::covbench::COVBENCH_NS
