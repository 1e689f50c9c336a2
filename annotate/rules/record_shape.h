// Rule record-shape: no base classes; message fields are public.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkRecordShape(const Schema& schema, Reporter& reporter);
}
