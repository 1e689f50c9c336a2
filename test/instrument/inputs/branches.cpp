// Test input: a function with branches, so SanitizerCoverage has edges to instrument.
int classify(int value) {
  if (value < 0) return -1;
  if (value == 0) return 0;
  return value % 2 == 0 ? 2 : 1;
}

int main(int argc, char**) { return classify(argc) == 1 ? 0 : 1; }
