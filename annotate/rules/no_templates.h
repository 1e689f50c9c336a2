// Rule no-templates: annotated classes and their methods are not templates.
#pragma once
#include "rule.h"
namespace moonpool::annotate {
void checkNoTemplates(const Schema& schema, Reporter& reporter);
}
