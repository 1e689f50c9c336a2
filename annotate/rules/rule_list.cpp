// The one explicit list of validation rules (annotate/ layer). Adding a rule: a file pair
// under rules/, an entry here, a section in README.md "Rules", and tests in
// test/annotate/diagnostics_test.cpp (exact output + must-not-fire).
#include <array>

#include "cpp_glue.h"
#include "idempotent_methods.h"
#include "member_names.h"
#include "no_overloads.h"
#include "no_templates.h"
#include "ordinal_pins.h"
#include "pure_virtual_methods.h"
#include "record_shape.h"
#include "rule.h"
#include "serializable_types.h"
#include "task_return.h"
#include "type_names.h"
#include "virtual_destructor.h"

namespace moonpool::annotate {
namespace {

constexpr std::array<Rule, 12> kRules = {{
    {"no-templates", "annotated classes and their methods are not templates", checkNoTemplates},
    {"record-shape", "no base classes; message fields are public", checkRecordShape},
    {"virtual-destructor", "a service has a public virtual destructor", checkVirtualDestructor},
    {"pure-virtual-methods", "service methods are public and pure virtual",
     checkPureVirtualMethods},
    {"task-return", "service and actor methods return moonpool::Task<T>", checkTaskReturn},
    {"no-overloads", "method names are unique within a service or actor", checkNoOverloads},
    {"serializable-types", "every field, parameter and result type maps to Cap'n Proto",
     checkSerializableTypes},
    {"member-names", "member names are valid and distinct in the schema", checkMemberNames},
    {"type-names", "type names are unique within one schema", checkTypeNames},
    {"ordinal-pins", "ordinal pins are integer constants in range, distinct, on schema members",
     checkOrdinalPins},
    {"idempotent-methods", "[[moonpool::idempotent]] only on service methods, without arguments",
     checkIdempotentMethods},
    {"cpp-glue", "no declaration the generated C++ cannot compile against", checkCppGlue},
}};

}  // namespace

std::span<const Rule> allRules() { return kRules; }

int runAllRules(const Schema& schema, Reporter& reporter) {
  int before = reporter.errorCount();
  for (const Rule& rule : allRules()) rule.check(schema, reporter);
  return reporter.errorCount() - before;
}

std::string describeRecord(const Record& record) {
  switch (record.kind) {
    case RecordKind::kService: return "service '" + record.name + "'";
    case RecordKind::kActor: return "actor '" + record.name + "'";
    case RecordKind::kMessage: return "message '" + record.name + "'";
  }
  return "class '" + record.name + "'";
}

}  // namespace moonpool::annotate
