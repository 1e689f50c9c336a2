// Rule type-names: schema type names are unique within one schema.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkTypeNames(const Schema& schema, Reporter& reporter);
}
