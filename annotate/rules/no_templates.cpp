// Rule no-templates (see README.md "Rules"): a schema describes concrete types, and one
// header maps to one schema, so neither class templates nor member templates can be
// annotated.
#include "no_templates.h"

namespace moonpool::annotate {

void checkNoTemplates(const Schema& schema, Reporter& reporter) {
  for (const Record& record : schema.records) {
    if (record.isTemplate) {
      reporter.error(record.loc, describeRecord(record) +
                                     " is a template; annotate a non-template class instead");
    }
    for (const Method& method : record.methods) {
      if (!method.isTemplate) continue;
      reporter.error(method.loc, "method '" + method.name + "' of " + describeRecord(record) +
                                     " is a template; declare one non-template method per type");
    }
  }
}

}  // namespace moonpool::annotate
