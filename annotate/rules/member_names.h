// Rule member-names: fields, methods, parameters and enumerants have valid, distinct
// Cap'n Proto names.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkMemberNames(const Schema& schema, Reporter& reporter);
}
