// Rule type-names (see README.md "Rules"): one header becomes one flat schema, so two
// annotated types or enums whose Cap'n Proto names coincide (same unqualified name in two
// namespaces, `put_request` vs `PutRequest`, or a user type named like a generated helper
// struct such as `OptionalText`) cannot both be emitted.
#include "type_names.h"

#include <map>

#include "../capnp_names.h"

namespace moonpool::annotate {
namespace {

struct Owner {
  std::string description;  // "message 'a::Put'"
};

void claim(std::map<std::string, Owner>& owners, const std::string& schemaName,
           const std::string& description, clang::SourceLocation loc, Reporter& reporter) {
  auto [it, inserted] = owners.emplace(schemaName, Owner{description});
  if (inserted) return;
  reporter.error(loc, description + " has the same schema name '" + schemaName + "' as " +
                          it->second.description + "; rename one of them");
}

}  // namespace

void checkTypeNames(const Schema& schema, Reporter& reporter) {
  std::map<std::string, Owner> owners;
  for (const auto& [name, type] : helperStructs(schema)) {
    owners.emplace(name, Owner{"the generated helper struct for '" + type.spelling + "'"});
  }
  for (const EnumDef& def : schema.enums) {
    claim(owners, def.schemaName, "enum '" + def.qualifiedName + "'", def.loc,
          reporter);
  }
  for (const Record& record : schema.records) {
    std::string kind = record.kind == RecordKind::kService ? "service"
                       : record.kind == RecordKind::kActor ? "actor"
                                                           : "message";
    claim(owners, record.schemaName, kind + " '" + record.qualifiedName + "'",
          record.loc, reporter);
  }
}

}  // namespace moonpool::annotate
