// Type mapping from clang types to the IR (see type_mapper.h and README.md "Types").
#include "type_mapper.h"

#include <clang/AST/DeclCXX.h>
#include <clang/AST/DeclTemplate.h>
#include <clang/Basic/SourceManager.h>

#include "ast_mapper.h"

namespace moonpool::annotate {
namespace {

constexpr char kUnsupportedStdReason[] =
    "is not a supported standard library type; use std::string, std::vector, std::optional, "
    "std::map or std::unordered_map";

}  // namespace

TypeRef unsupportedType(std::string spelling, std::string reason) {
  TypeRef type;
  type.kind = TypeKind::kUnsupported;
  type.spelling = std::move(spelling);
  type.unsupportedReason = std::move(reason);
  return type;
}

TypeMapper::TypeMapper(clang::ASTContext& context, std::vector<EnumDef>& enums)
    : context_(context), enums_(enums) {}

std::string TypeMapper::spell(clang::QualType type) const {
  clang::PrintingPolicy policy = context_.getPrintingPolicy();
  policy.SuppressTagKeyword = true;
  return type.getAsString(policy);
}

TypeRef TypeMapper::map(clang::QualType type, TypePosition position) {
  std::string spelling = spell(type);
  if (const auto* reference = type->getAs<clang::ReferenceType>()) {
    clang::QualType pointee = reference->getPointeeType();
    bool constLvalue = type->isLValueReferenceType() && pointee.isConstQualified();
    if (position == TypePosition::kParameter && !constLvalue) {
      return unsupportedType(spelling, "is a non-const reference; pass it by value or by "
                                       "const reference");
    }
    if (position != TypePosition::kParameter) {
      return unsupportedType(spelling, "is a reference; use a value type");
    }
    type = pointee;
  }
  if (type->isVoidType()) {
    if (position == TypePosition::kResult) {
      TypeRef result;
      result.kind = TypeKind::kVoid;
      result.spelling = spelling;
      return result;
    }
    return unsupportedType(spelling, "is void; use a value type");
  }
  return mapValue(type, spelling);
}

TypeRef TypeMapper::mapValue(clang::QualType type, const std::string& spelling) {
  clang::QualType canonical = type.getCanonicalType().getUnqualifiedType();
  if (const auto* builtin = canonical->getAs<clang::BuiltinType>()) {
    return mapBuiltin(*builtin, spelling);
  }
  if (const auto* enumType = canonical->getAs<clang::EnumType>()) {
    return mapEnum(*enumType->getDecl(), spelling);
  }
  if (const auto* record = canonical->getAsCXXRecordDecl()) {
    return mapRecord(*record, spelling);
  }
  if (canonical->isPointerType() || canonical->isMemberPointerType()) {
    return unsupportedType(spelling, "is a pointer; use a value type");
  }
  if (canonical->isArrayType()) {
    return unsupportedType(spelling, "is a C array; use std::vector");
  }
  return unsupportedType(spelling,
                         "cannot be serialized; use a supported type (annotate/README.md)");
}

TypeRef TypeMapper::mapBuiltin(const clang::BuiltinType& builtin, const std::string& spelling) {
  TypeRef type;
  type.spelling = spelling;
  switch (builtin.getKind()) {
    case clang::BuiltinType::Bool: type.kind = TypeKind::kBool; return type;
    case clang::BuiltinType::Float: type.kind = TypeKind::kFloat32; return type;
    case clang::BuiltinType::Double: type.kind = TypeKind::kFloat64; return type;
    case clang::BuiltinType::WChar_S:
    case clang::BuiltinType::WChar_U:
    case clang::BuiltinType::Char8:
    case clang::BuiltinType::Char16:
    case clang::BuiltinType::Char32:
      return unsupportedType(spelling, "is a wide character type; use an integer type");
    default: break;
  }
  if (!builtin.isInteger()) {
    return unsupportedType(spelling,
                           "has no Cap'n Proto equivalent; use an integer type, float or double");
  }
  const bool isSigned = builtin.isSignedInteger();
  switch (context_.getTypeSize(&builtin)) {
    case 8: type.kind = isSigned ? TypeKind::kInt8 : TypeKind::kUInt8; return type;
    case 16: type.kind = isSigned ? TypeKind::kInt16 : TypeKind::kUInt16; return type;
    case 32: type.kind = isSigned ? TypeKind::kInt32 : TypeKind::kUInt32; return type;
    case 64: type.kind = isSigned ? TypeKind::kInt64 : TypeKind::kUInt64; return type;
    default: return unsupportedType(spelling, "is wider than 64 bits; use a 64-bit integer type");
  }
}

TypeRef TypeMapper::mapEnum(const clang::EnumDecl& decl, const std::string& spelling) {
  if (decl.isInStdNamespace()) {
    return unsupportedType(spelling, "is a standard library enum; use an enum of your own");
  }
  const clang::EnumDecl* definition = decl.getDefinition();
  if (definition == nullptr) {
    return unsupportedType(spelling, "is an enum without a definition; define it in a header "
                                     "the input includes");
  }
  TypeRef type;
  type.kind = TypeKind::kEnum;
  type.spelling = spelling;
  type.qualifiedName = definition->getQualifiedNameAsString();
  if (seenEnums_.insert(type.qualifiedName).second) {
    EnumDef def;
    def.name = definition->getNameAsString();
    def.qualifiedName = type.qualifiedName;
    def.loc = definition->getLocation();
    for (const clang::EnumConstantDecl* constant : definition->enumerators()) {
      def.enumerators.push_back({constant->getNameAsString(), constant->getLocation(),
                                 ordinalPinsOf(*constant, context_), -1});
    }
    enums_.push_back(std::move(def));
  }
  return type;
}

TypeRef TypeMapper::mapRecord(const clang::CXXRecordDecl& record, const std::string& spelling) {
  if (record.isInStdNamespace()) {
    if (const auto* spec = llvm::dyn_cast<clang::ClassTemplateSpecializationDecl>(&record)) {
      return mapStdTemplate(*spec, spelling);
    }
    return unsupportedType(spelling, kUnsupportedStdReason);
  }
  std::optional<RecordKind> kind = moonpoolKindOf(record);
  if (!kind.has_value()) {
    return unsupportedType(spelling,
                           "is not a message; annotate its definition [[moonpool::message]]");
  }
  if (*kind != RecordKind::kMessage) {
    return unsupportedType(spelling, "is a service or actor; references to them are not "
                                     "supported yet, pass a message instead");
  }
  const clang::SourceManager& sources = context_.getSourceManager();
  const clang::CXXRecordDecl* definition = record.getDefinition();
  if (definition == nullptr ||
      !sources.isInMainFile(sources.getExpansionLoc(definition->getLocation()))) {
    return unsupportedType(spelling, "is a message defined in another header; define it in "
                                     "this header (schema imports are not supported yet)");
  }
  TypeRef type;
  type.kind = TypeKind::kMessage;
  type.spelling = spelling;
  type.qualifiedName = definition->getQualifiedNameAsString();
  return type;
}

TypeRef TypeMapper::mapStdTemplate(const clang::ClassTemplateSpecializationDecl& spec,
                                   const std::string& spelling) {
  const std::string name = spec.getName().str();
  const clang::TemplateArgumentList& args = spec.getTemplateArgs();
  auto argType = [&](unsigned index) { return args.get(index).getAsType(); };
  TypeRef type;
  type.spelling = spelling;
  if (name == "basic_string" && argType(0)->isSpecificBuiltinType(clang::BuiltinType::Char_S)) {
    type.kind = TypeKind::kText;
    return type;
  }
  if (name == "vector") {
    clang::QualType element = argType(0).getCanonicalType();
    const auto* elementEnum = element->getAs<clang::EnumType>();
    bool isByte = element->isSpecificBuiltinType(clang::BuiltinType::UChar) ||
                  (elementEnum != nullptr && elementEnum->getDecl()->isInStdNamespace() &&
                   elementEnum->getDecl()->getName() == "byte");
    type.kind = isByte ? TypeKind::kData : TypeKind::kList;
    if (!isByte) type.args.push_back(mapValue(argType(0), spell(argType(0))));
    return type;
  }
  if (name == "optional") {
    type.kind = TypeKind::kOptional;
    type.args.push_back(mapValue(argType(0), spell(argType(0))));
    return type;
  }
  if (name == "map" || name == "unordered_map") {
    type.kind = TypeKind::kMap;
    type.args.push_back(mapValue(argType(0), spell(argType(0))));
    type.args.push_back(mapValue(argType(1), spell(argType(1))));
    return type;
  }
  return unsupportedType(spelling, kUnsupportedStdReason);
}

}  // namespace moonpool::annotate
