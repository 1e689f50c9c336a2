// Rule pure-virtual-methods: every method of a service is public and pure virtual.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkPureVirtualMethods(const Schema& schema, Reporter& reporter);
}
