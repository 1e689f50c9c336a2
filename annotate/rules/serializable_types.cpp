// Rule serializable-types (see README.md "Rules" and "Types"). The type mapper records
// unsupported types with a reason; this rule reports the innermost one, so
// `std::vector<std::set<int>>` names 'std::set<int>'.
#include "serializable_types.h"

namespace moonpool::annotate {
namespace {

const TypeRef* firstUnsupported(const TypeRef& type) {
  for (const TypeRef& arg : type.args) {
    if (const TypeRef* inner = firstUnsupported(arg)) return inner;
  }
  return type.kind == TypeKind::kUnsupported ? &type : nullptr;
}

void checkType(const TypeRef& type, clang::SourceLocation loc, const std::string& where,
               Reporter& reporter) {
  const TypeRef* bad = firstUnsupported(type);
  if (bad == nullptr) return;
  reporter.error(loc, "type '" + bad->spelling + "' of " + where + " " + bad->unsupportedReason);
}

}  // namespace

void checkSerializableTypes(const Schema& schema, Reporter& reporter) {
  for (const Record& record : schema.records) {
    if (record.isTemplate) continue;  // dependent types; reported by no-templates
    for (const Field& field : record.fields) {
      checkType(field.type, field.loc, "field '" + field.name + "' in " + describeRecord(record),
                reporter);
    }
    for (const Method& method : record.methods) {
      if (method.isTemplate) continue;
      std::string inMethod = "method '" + method.name + "' of " + describeRecord(record);
      for (const Field& param : method.params) {
        checkType(param.type, param.loc, "parameter '" + param.name + "' in " + inMethod,
                  reporter);
      }
      if (method.returnsTask) {
        checkType(method.result, method.loc, "the result of " + inMethod, reporter);
      }
    }
  }
}

}  // namespace moonpool::annotate
