// Rule ordinal-pins: [[moonpool::ordinal(N)]] pins are well-formed and distinct.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkOrdinalPins(const Schema& schema, Reporter& reporter);
}
