/* Test input: C code through moonpool-clang. */
int moonpoolHello(int value) { return value + 1; }
