// Evolution input: a header that parses fast, for tests about the lock file alone.
#pragma once

struct [[moonpool::message]] Tiny {
  int value;
};
