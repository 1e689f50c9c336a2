// Rule idempotent-methods: [[moonpool::idempotent]] only on methods of a service, no arguments.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkIdempotentMethods(const Schema& schema, Reporter& reporter);
}
