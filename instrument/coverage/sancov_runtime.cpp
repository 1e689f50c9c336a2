// The SanitizerCoverage runtime: arriving in the next commit.
