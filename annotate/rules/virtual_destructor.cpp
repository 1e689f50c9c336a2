// Rule virtual-destructor (see README.md "Rules"): services are interfaces owned through a
// base pointer (the server adapter holds a std::unique_ptr<Service>), so deleting through
// the base must be defined behaviour. Actors are concrete classes and are exempt.
#include "virtual_destructor.h"

namespace moonpool::annotate {

void checkVirtualDestructor(const Schema& schema, Reporter& reporter) {
  for (const Record& record : schema.records) {
    if (record.kind != RecordKind::kService || record.hasVirtualDestructor) continue;
    if (record.isTemplate) continue;  // members not mapped; rule no-templates reports it
    reporter.error(record.loc, describeRecord(record) +
                                   " has no public virtual destructor; add 'virtual ~" +
                                   record.name + "() = default;'");
  }
}

}  // namespace moonpool::annotate
