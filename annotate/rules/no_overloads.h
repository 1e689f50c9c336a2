// Rule no-overloads: method names are unique within a service or actor.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkNoOverloads(const Schema& schema, Reporter& reporter);
}
