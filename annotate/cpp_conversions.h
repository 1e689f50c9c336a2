// C++ conversion code between user types and Cap'n Proto builders/readers (annotate/ layer).
//
// Used by the C++ emitter (cpp_emitter.h). The generated conversions are overload sets in
// the schema's C++ namespace (`<ns>::schema`):
//   void toCapnp(const From& from, <capnp type>::Builder to);   // struct-like and list types
//   void fromCapnp(<capnp type>::Reader from, To& to);          // every type
//   <capnp value> toCapnpValue(const From& from);               // enums, Text, Data
// The Cap'n Proto side of each overload is concrete (one overload per distinct schema type,
// so overload resolution follows the schema) while the C++ side of helper overloads is a
// template parameter, because the IR does not record which of several C++ spellings
// (`char` or `signed char`, `std::map` or `std::unordered_map`) the user wrote. Messages and
// enums get concrete, public overloads declared in the generated header.
#pragma once

#include <string>

#include "ir.h"

namespace moonpool::annotate {

// The C++ type capnp generates for a schema type, fully qualified from the global namespace:
// "::std::int32_t", "::capnp::Text", "::capnp::List<::capnp::Text>", "::demo::schema::Put".
std::string wireCxxType(const TypeRef& type, const Schema& schema);

// "::demo::schema" for the schema's generated C++ namespace.
std::string qualifiedCxxNamespace(const Schema& schema);

// capnp's C++ spelling of a member name: "smallNumber" -> "SmallNumber" (as in getSmallNumber).
std::string capnpAccessorSuffix(const std::string& cppMemberName);

// Statements writing C++ expression `expr` (of IR type `type`) into struct field `cppMember`
// of builder `builder`, one line, indented by `indent`.
std::string emitFieldWrite(const TypeRef& type, const std::string& cppMember,
                           const std::string& builder, const std::string& expr,
                           const std::string& indent);

// Public declarations of the message and enum conversions (for the generated header).
std::string emitConversionDeclarations(const Schema& schema);

// Every conversion definition: file-local helpers for lists, maps, optionals, text, data
// and scalars first declared then defined, then the public message and enum conversions.
std::string emitConversionDefinitions(const Schema& schema);

}  // namespace moonpool::annotate
