// User code of the consumer project, instrumented with SanitizerCoverage by the installed
// moonpool_enable_coverage(): a few branches whose edges the coverage runtime counts.
int classify(int value) {
  if (value < 0) return -1;
  if (value == 0) return 0;
  return value % 2 == 0 ? 2 : 1;
}
