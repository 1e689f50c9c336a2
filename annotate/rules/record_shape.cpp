// Rule record-shape (see README.md "Rules"): base classes are not mapped (their fields or
// methods would silently be missing from the schema), and messages are plain aggregates
// whose every field is public, so generated conversions can read and write them.
#include "record_shape.h"

namespace moonpool::annotate {

void checkRecordShape(const Schema& schema, Reporter& reporter) {
  for (const Record& record : schema.records) {
    if (record.hasBases) {
      reporter.error(record.firstBaseLoc,
                     describeRecord(record) +
                         " has a base class, which is not supported; remove the base class");
    }
    if (record.kind == RecordKind::kMessage && !record.firstNonPublicFieldName.empty()) {
      reporter.error(record.firstNonPublicFieldLoc,
                     "field '" + record.firstNonPublicFieldName + "' of " +
                         describeRecord(record) + " is not public; make every field public");
    }
  }
}

}  // namespace moonpool::annotate
