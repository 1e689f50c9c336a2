// Stand-in user code for the moonpool_enable_coverage() project test (never built).
int userFunction(int x) { return x > 0 ? x : -x; }
