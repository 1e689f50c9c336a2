// Rule pure-virtual-methods (see README.md "Rules"): a service is an interface (STYLE.md
// rule 2). The generated client implements every method by a remote call, so a method
// with a body, a non-virtual, static or non-public method would be silently bypassed or
// unreachable. Actors are concrete classes and are exempt.
#include "pure_virtual_methods.h"

namespace moonpool::annotate {

void checkPureVirtualMethods(const Schema& schema, Reporter& reporter) {
  for (const Record& record : schema.records) {
    if (record.kind != RecordKind::kService) continue;
    for (const Method& method : record.methods) {
      if (method.isTemplate) continue;  // reported by no-templates
      if (method.isPublic && method.isPure && !method.isStatic) continue;
      reporter.error(method.loc, "method '" + method.name + "' of " + describeRecord(record) +
                                     " must be public and pure virtual; declare it 'virtual "
                                     "... = 0' in the public section");
    }
  }
}

}  // namespace moonpool::annotate
