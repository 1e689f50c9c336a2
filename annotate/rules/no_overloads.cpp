// Rule no-overloads (see README.md "Rules"): Cap'n Proto methods are identified by name
// and ordinal, so C++ overloads have no schema equivalent. Reported on each later overload.
#include "no_overloads.h"

#include <set>

namespace moonpool::annotate {

void checkNoOverloads(const Schema& schema, Reporter& reporter) {
  for (const Record& record : schema.records) {
    std::set<std::string> seen;
    for (const Method& method : record.methods) {
      if (seen.insert(method.name).second) continue;
      reporter.error(method.loc, "method '" + method.name + "' of " + describeRecord(record) +
                                     " is overloaded; give each overload its own name");
    }
  }
}

}  // namespace moonpool::annotate
