// Rule virtual-destructor: a service has a public virtual destructor.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkVirtualDestructor(const Schema& schema, Reporter& reporter);
}
