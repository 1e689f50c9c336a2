// Test project: a source file unrelated to the generated code (touching it must not
// rerun the generator).
int unrelatedValue() { return 7; }
