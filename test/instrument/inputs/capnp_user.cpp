// Test input: Cap'n Proto 0.9 headers in C++20 under clang-19 need the KJ shim (toolchain.md
// P5); moonpool-clang++ force-includes it and adds the project include directories.
#include <capnp/message.h>

#include "moonpool/task.h"

bool sameText(kj::StringPtr text) { return "moonpool" == text; }
