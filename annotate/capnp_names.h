// How C++ names and IR types become Cap'n Proto names (annotate/ layer).
//
// Cap'n Proto requires type names in UpperCamelCase and member names (fields, methods,
// parameters, enumerants) in lowerCamelCase, both without underscores. The emitter and the
// schema-names rule both use these functions, so the rule checks exactly what is emitted.
#pragma once

#include <string>
#include <string_view>

#include "ir.h"

namespace moonpool::annotate {

// "put_request" -> "PutRequest", "KvStore" -> "KvStore".
std::string toCapnpTypeName(std::string_view cppName);

// "user_id" -> "userId", "RED_LIGHT" -> "redLight", "Get" -> "get".
std::string toCapnpMemberName(std::string_view cppName);

// True for words Cap'n Proto reserves in its schema language or its generated code.
bool isCapnpReservedWord(std::string_view name);

// True if `name` is an identifier made of [A-Za-z0-9_] that does not start with a digit
// (rules out "operator==" and the like).
bool isPlainIdentifier(std::string_view name);

// The name a type contributes to generated helper struct names: "Text", "ListInt32",
// "OptionalText", "MapTextUInt64", or the capnp name of an enum or message.
std::string helperTypeName(const TypeRef& type);

// Names every record and enum of the schema, and every type reference to them: the
// UpperCamel form of the C++ name ("Put"), or, when two types of the schema share that name
// (a::Msg and b::Msg), each of those gets its namespaces prefixed ("AMsg", "BMsg"). Types
// whose names are unique keep their short names, so adding a namespaced twin later renames
// only the twins (IDs derive from the qualified C++ name, so the wire does not change).
// Run once by the AST mapper, after mapping.
void assignSchemaNames(Schema& schema);

// The schema expression for a field of this type: "UInt64", "List(Text)", "OptionalText",
// "List(MapTextUInt64Entry)", "Put".
std::string capnpTypeExpr(const TypeRef& type);

// Name of the helper struct generated for a kOptional type ("OptionalText") or a kMap type
// ("MapTextUInt64Entry").
std::string helperStructName(const TypeRef& type);

}  // namespace moonpool::annotate

#include <map>

namespace moonpool::annotate {

// The schema name of the placeholder kept for a retired ordinal: "retired" + ordinal + the
// retired member's name ("retired1Value"). The ordinal keeps two retirements of one name
// apart; member-names-style clashes with live members are checked by the evolution stage.
std::string retiredPlaceholderName(const RetiredMember& retired);

// The helper structs the schema needs (one per distinct optional or map type, found in any
// field, parameter or result, nested ones included), keyed and so ordered by name.
std::map<std::string, TypeRef> helperStructs(const Schema& schema);

}  // namespace moonpool::annotate
