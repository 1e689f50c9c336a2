// Rule task-return (see README.md "Rules"): RPC methods are coroutines returning
// moonpool::Task<T>, because the generated client can only ever answer asynchronously.
#include "task_return.h"

namespace moonpool::annotate {

void checkTaskReturn(const Schema& schema, Reporter& reporter) {
  for (const Record& record : schema.records) {
    for (const Method& method : record.methods) {
      if (method.returnsTask || method.isTemplate) continue;  // templates: no-templates rule
      reporter.error(method.loc, "method '" + method.name + "' of " + describeRecord(record) +
                                     " returns '" + method.returnSpelling +
                                     "'; return 'moonpool::Task<T>' instead");
    }
  }
}

}  // namespace moonpool::annotate
