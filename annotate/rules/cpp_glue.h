// Rule cpp-glue: declarations the generated C++ glue could not compile against.
#pragma once

#include "rule.h"

namespace moonpool::annotate {

void checkCppGlue(const Schema& schema, Reporter& reporter);

}  // namespace moonpool::annotate
