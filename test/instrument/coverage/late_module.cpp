// test/coverage: an instrumented shared object (both modes) that late_test.cpp dlopen()s
// after the edge map was sized. Its callbacks resolve to the test executable's runtime.
extern "C" int lateFunction(int x) {
  if (x > 0) return 1;
  return 2;
}
