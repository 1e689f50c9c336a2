// Rule task-return: every method of a service or actor returns moonpool::Task<T>.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkTaskReturn(const Schema& schema, Reporter& reporter);
}
