// Maps clang types to IR TypeRefs (annotate/ layer; part of the AST mapper).
//
// Never fails: a type it cannot serialize becomes TypeKind::kUnsupported with a reason,
// and the serializable-types rule reports it. Enums met along the way are collected into
// the schema (first-use order, so the output is deterministic).
#pragma once

#include <clang/AST/ASTContext.h>
#include <clang/AST/Type.h>

#include <set>
#include <string>
#include <vector>

#include "ir.h"

namespace moonpool::annotate {

// Where a type appears: references are accepted for parameters only (by const reference).
enum class TypePosition { kParameter, kField, kResult };

class TypeMapper {
 public:
  // `enums` receives every enum definition the mapped types use; it outlives the mapper.
  TypeMapper(clang::ASTContext& context, std::vector<EnumDef>& enums);

  TypeRef map(clang::QualType type, TypePosition position);

 private:
  TypeRef mapValue(clang::QualType type, const std::string& spelling);
  TypeRef mapBuiltin(const clang::BuiltinType& builtin, const std::string& spelling);
  TypeRef mapRecord(const clang::CXXRecordDecl& record, const std::string& spelling);
  TypeRef mapStdTemplate(const clang::ClassTemplateSpecializationDecl& spec,
                         const std::string& spelling);
  TypeRef mapEnum(const clang::EnumDecl& decl, const std::string& spelling);
  std::string spell(clang::QualType type) const;

  clang::ASTContext& context_;
  std::vector<EnumDef>& enums_;
  std::set<std::string> seenEnums_;
};

// A kUnsupported TypeRef.
TypeRef unsupportedType(std::string spelling, std::string reason);

}  // namespace moonpool::annotate
