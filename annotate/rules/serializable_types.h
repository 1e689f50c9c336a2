// Rule serializable-types: every field, parameter and result type maps to Cap'n Proto.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkSerializableTypes(const Schema& schema, Reporter& reporter);
}
