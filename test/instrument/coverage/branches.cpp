// test/coverage: code with distinct branches, compiled into an instrumented library per mode
// (COVTEST_NS names the namespace: guard or counters; see CMakeLists.txt). Each branch
// writes its own volatile so the optimizer (the asan preset builds at -O1) can neither merge
// branches nor turn them into selects: every input class keeps its own edges.
#include "branches.h"

namespace moonpool::covtest::COVTEST_NS {
namespace {
volatile int gPath[6];
}  // namespace

int classify(int x) {
  if (x < 0) {
    gPath[0] = gPath[0] + 1;
    return -1;
  }
  if (x == 0) {
    gPath[1] = gPath[1] + 1;
    return 0;
  }
  if (x % 2 == 0) {
    gPath[2] = gPath[2] + 1;
    return 2;
  }
  if (x > 100) {
    gPath[3] = gPath[3] + 1;
    return 3;
  }
  gPath[4] = gPath[4] + 1;
  return 1;
}

int loop(int iterations) {
  int sum = 0;
  for (int i = 0; i < iterations; ++i) {
    gPath[5] = gPath[5] + i;
    sum += gPath[5];
  }
  return sum;
}

}  // namespace moonpool::covtest::COVTEST_NS
