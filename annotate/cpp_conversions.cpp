// Emission of the generated conversion code (see cpp_conversions.h).
//
// Write side: how a value is stored depends on the schema type's shape, so the emitter
// picks the capnp call per shape (setX(value), initX(size) for lists, initX() for
// structs). Read side: every type reads through the same `fromCapnp(reader, to)` call, so
// one template per schema type handles nesting of any depth.
#include "cpp_conversions.h"

#include <map>
#include <sstream>

#include "capnp_emitter.h"
#include "capnp_names.h"

namespace moonpool::annotate {
namespace {

enum class WireShape {
  kValue,   // set(value): scalars, enums, Text, Data
  kSized,   // init(size): List, and maps (a List of entries)
  kStruct,  // init(): messages and optional helpers
};

WireShape wireShape(const TypeRef& type) {
  switch (type.kind) {
    case TypeKind::kList:
    case TypeKind::kMap:
      return WireShape::kSized;
    case TypeKind::kMessage:
    case TypeKind::kOptional:
      return WireShape::kStruct;
    default:
      return WireShape::kValue;
  }
}

const char* scalarCxxType(TypeKind kind) {
  switch (kind) {
    case TypeKind::kBool: return "bool";
    case TypeKind::kInt8: return "::std::int8_t";
    case TypeKind::kInt16: return "::std::int16_t";
    case TypeKind::kInt32: return "::std::int32_t";
    case TypeKind::kInt64: return "::std::int64_t";
    case TypeKind::kUInt8: return "::std::uint8_t";
    case TypeKind::kUInt16: return "::std::uint16_t";
    case TypeKind::kUInt32: return "::std::uint32_t";
    case TypeKind::kUInt64: return "::std::uint64_t";
    case TypeKind::kFloat32: return "float";
    case TypeKind::kFloat64: return "double";
    default: return nullptr;
  }
}

// The value handed to a capnp setter: arithmetic values are cast to the exact wire type
// (the user may have written `char` or `long long`), the rest convert through an overload.
std::string valueExpr(const TypeRef& type, const std::string& expr) {
  if (const char* scalar = scalarCxxType(type.kind)) {
    return "static_cast<" + std::string(scalar) + ">(" + expr + ")";
  }
  return "toCapnpValue(" + expr + ")";
}

std::string sizeExpr(const std::string& expr) {
  return "static_cast<::capnp::uint>(" + expr + ".size())";
}

// One statement storing `expr` as element `index` of list builder `list`.
std::string emitElementWrite(const TypeRef& type, const std::string& list,
                             const std::string& index, const std::string& expr,
                             const std::string& indent) {
  switch (wireShape(type)) {
    case WireShape::kValue:
      return indent + list + ".set(" + index + ", " + valueExpr(type, expr) + ");\n";
    case WireShape::kSized:
      return indent + "toCapnp(" + expr + ", " + list + ".init(" + index + ", " +
             sizeExpr(expr) + "));\n";
    case WireShape::kStruct:
      return indent + "toCapnp(" + expr + ", " + list + "[" + index + "]);\n";
  }
  return "";
}

// The C++ name capnp gives an enumerant: "linearizableRead" -> "LINEARIZABLE_READ".
std::string capnpEnumerantCxxName(const std::string& cppEnumerator) {
  std::string out;
  for (char c : toCapnpMemberName(cppEnumerator)) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty()) out.push_back('_');
      out.push_back(c);
    } else if (c >= 'a' && c <= 'z') {
      out.push_back(static_cast<char>(c - 'a' + 'A'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void collectComposites(const TypeRef& type, const Schema& schema,
                       std::map<std::string, TypeRef>& out) {
  for (const TypeRef& arg : type.args) collectComposites(arg, schema, out);
  if (type.kind == TypeKind::kList || type.kind == TypeKind::kMap ||
      type.kind == TypeKind::kOptional) {
    out.emplace(wireCxxType(type, schema), type);
  }
}

// Composite schema types (lists, maps, optionals) keyed, and so ordered, by wire type.
std::map<std::string, TypeRef> compositeTypes(const Schema& schema) {
  std::map<std::string, TypeRef> out;
  for (const Record& record : schema.records) {
    for (const Field& field : record.fields) collectComposites(field.type, schema, out);
    for (const Method& method : record.methods) {
      collectComposites(method.result, schema, out);
      for (const Field& param : method.params) collectComposites(param.type, schema, out);
    }
  }
  return out;
}

std::string compositeReaderType(const std::string& wire) { return wire + "::Reader"; }
std::string compositeBuilderType(const std::string& wire) { return wire + "::Builder"; }

std::string compositeDeclarations(const std::string& wire) {
  return "template <typename From>\nstatic void toCapnp(const From& from, " +
         compositeBuilderType(wire) + " to);\ntemplate <typename To>\nstatic void fromCapnp(" +
         compositeReaderType(wire) + " from, To& to);\n";
}

void emitListConversions(const std::string& wire, const TypeRef& type, std::ostringstream& out) {
  const TypeRef& element = type.args.at(0);
  out << "template <typename From>\nstatic void toCapnp(const From& from, "
      << compositeBuilderType(wire) << " to) {\n"
      << "  ::capnp::uint index = 0;\n"
      << "  for (const auto& element : from) {\n"
      << emitElementWrite(element, "to", "index", "element", "    ") << "    ++index;\n"
      << "  }\n}\n\n";
  out << "template <typename To>\nstatic void fromCapnp(" << compositeReaderType(wire)
      << " from, To& to) {\n"
      << "  to.clear();\n  to.reserve(from.size());\n"
      << "  for (auto element : from) {\n"
      << "    typename To::value_type value{};\n"
      << "    fromCapnp(element, value);\n"
      << "    to.push_back(::std::move(value));\n"
      << "  }\n}\n";
}

void emitMapConversions(const std::string& wire, const TypeRef& type, std::ostringstream& out) {
  out << "template <typename From>\nstatic void toCapnp(const From& from, "
      << compositeBuilderType(wire) << " to) {\n"
      << "  ::capnp::uint index = 0;\n"
      << "  for (const auto& [key, value] : from) {\n"
      << "    auto entry = to[index];\n"
      << emitFieldWrite(type.args.at(0), "key", "entry", "key", "    ")
      << emitFieldWrite(type.args.at(1), "value", "entry", "value", "    ")
      << "    ++index;\n  }\n}\n\n";
  out << "template <typename To>\nstatic void fromCapnp(" << compositeReaderType(wire)
      << " from, To& to) {\n"
      << "  to.clear();\n"
      << "  for (auto entry : from) {\n"
      << "    typename To::key_type key{};\n"
      << "    typename To::mapped_type value{};\n"
      << "    fromCapnp(entry.getKey(), key);\n"
      << "    fromCapnp(entry.getValue(), value);\n"
      << "    to.insert_or_assign(::std::move(key), ::std::move(value));\n"
      << "  }\n}\n";
}

void emitOptionalConversions(const std::string& wire, const TypeRef& type,
                             std::ostringstream& out) {
  out << "template <typename From>\nstatic void toCapnp(const From& from, "
      << compositeBuilderType(wire) << " to) {\n"
      << "  if (!from.has_value()) {\n    to.setNone();\n    return;\n  }\n"
      << emitFieldWrite(type.args.at(0), "value", "to", "(*from)", "  ") << "}\n\n";
  out << "template <typename To>\nstatic void fromCapnp(" << compositeReaderType(wire)
      << " from, To& to) {\n"
      << "  if (!from.isValue()) {\n    to.reset();\n    return;\n  }\n"
      << "  typename To::value_type value{};\n"
      << "  fromCapnp(from.getValue(), value);\n"
      << "  to = ::std::move(value);\n}\n";
}

// Helpers that call no other conversion: scalars, Text and Data, in both directions.
const char* const kLeafHelpers = R"(template <typename Wire, typename To>
  requires ::std::is_arithmetic_v<Wire>
static void fromCapnp(Wire from, To& to) {
  to = static_cast<To>(from);
}

template <typename To>
static void fromCapnp(::capnp::Text::Reader from, To& to) {
  to.assign(from.cStr(), from.size());
}

template <typename To>
static void fromCapnp(::capnp::Data::Reader from, To& to) {
  to.resize(from.size());
  for (::std::size_t i = 0; i < from.size(); ++i) {
    to[i] = static_cast<typename To::value_type>(from[i]);
  }
}

template <typename From>
  requires ::std::is_same_v<From, ::std::string>
static ::capnp::Text::Reader toCapnpValue(const From& from) {
  return ::capnp::Text::Reader(from.data(), from.size());
}

// std::vector of uint8_t, unsigned char or std::byte: all one byte wide.
template <typename Byte>
  requires(sizeof(Byte) == 1)
static ::capnp::Data::Reader toCapnpValue(const ::std::vector<Byte>& from) {
  return ::capnp::Data::Reader(reinterpret_cast<const ::kj::byte*>(from.data()), from.size());
}
)";

std::string recordWire(const Record& record, const Schema& schema) {
  return qualifiedCxxNamespace(schema) + "::" + record.schemaName;
}

std::string enumWire(const EnumDef& def, const Schema& schema) {
  return qualifiedCxxNamespace(schema) + "::" + def.schemaName;
}

void emitMessageConversions(const Record& record, const Schema& schema,
                            std::ostringstream& out) {
  std::string wire = recordWire(record, schema);
  out << "void toCapnp(const ::" << record.qualifiedName << "& from, " << wire
      << "::Builder to) {\n";
  if (record.fields.empty()) out << "  static_cast<void>(from);\n  static_cast<void>(to);\n";
  for (const Field& field : record.fields) {
    out << emitFieldWrite(field.type, field.name, "to", "from." + field.name, "  ");
  }
  out << "}\n\n";
  out << "void fromCapnp(" << wire << "::Reader from, ::" << record.qualifiedName
      << "& to) {\n";
  if (record.fields.empty()) out << "  static_cast<void>(from);\n  static_cast<void>(to);\n";
  for (const Field& field : record.fields) {
    out << "  fromCapnp(from.get" << capnpAccessorSuffix(field.name) << "(), to." << field.name
        << ");\n";
  }
  out << "}\n";
}

// An if-chain, not a switch: C++ enumerators may share a value.
void emitEnumConversions(const EnumDef& def, const Schema& schema, std::ostringstream& out) {
  std::string wire = enumWire(def, schema);
  std::string cpp = "::" + def.qualifiedName;
  // An enum without enumerators reads neither parameter (clean under -Wunused-parameter).
  const char* unused = def.enumerators.empty() ? "[[maybe_unused]] " : "";
  out << wire << " toCapnpValue(" << unused << cpp << " from) {\n";
  for (const Enumerator& enumerator : def.enumerators) {
    out << "  if (from == " << cpp << "::" << enumerator.name << ") return " << wire
        << "::" << capnpEnumerantCxxName(enumerator.name) << ";\n";
  }
  out << "  throw ::moonpool::Exception(::moonpool::ErrorKind::kFailed,\n"
      << "                              \"" << def.qualifiedName
      << " value has no enumerator; it cannot be sent\");\n}\n\n";
  out << "void fromCapnp(" << wire << " from, " << unused << cpp << "& to) {\n  switch (from) {\n";
  for (const Enumerator& enumerator : def.enumerators) {
    out << "    case " << wire << "::" << capnpEnumerantCxxName(enumerator.name) << ":\n"
        << "      to = " << cpp << "::" << enumerator.name << ";\n      return;\n";
  }
  // Retired enumerants (lock file) have no C++ counterpart: listed so -Wswitch stays quiet.
  for (const RetiredMember& retired : def.retired) {
    out << "    case " << wire << "::" << capnpEnumerantCxxName(retiredPlaceholderName(retired))
        << ":\n";
  }
  if (!def.retired.empty()) out << "      break;\n";
  out << "  }\n"
      << "  throw ::moonpool::Exception(::moonpool::ErrorKind::kFailed,\n"
      << "                              \"unknown " << def.qualifiedName
      << " enumerant received (a newer peer?)\");\n}\n";
}

}  // namespace

std::string qualifiedCxxNamespace(const Schema& schema) {
  return "::" + capnpCxxNamespace(schema);
}

std::string capnpAccessorSuffix(const std::string& cppMemberName) {
  std::string name = toCapnpMemberName(cppMemberName);
  if (!name.empty() && name[0] >= 'a' && name[0] <= 'z') {
    name[0] = static_cast<char>(name[0] - 'a' + 'A');
  }
  return name;
}

std::string wireCxxType(const TypeRef& type, const Schema& schema) {
  if (const char* scalar = scalarCxxType(type.kind)) return scalar;
  switch (type.kind) {
    case TypeKind::kText: return "::capnp::Text";
    case TypeKind::kData: return "::capnp::Data";
    case TypeKind::kList:
      return "::capnp::List<" + wireCxxType(type.args.at(0), schema) + ">";
    case TypeKind::kMap:
      return "::capnp::List<" + qualifiedCxxNamespace(schema) + "::" + helperStructName(type) +
             ">";
    default:  // optional helpers, enums, messages: named types of the schema
      return qualifiedCxxNamespace(schema) + "::" + helperStructName(type);
  }
}

std::string emitFieldWrite(const TypeRef& type, const std::string& cppMember,
                           const std::string& builder, const std::string& expr,
                           const std::string& indent) {
  std::string suffix = capnpAccessorSuffix(cppMember);
  switch (wireShape(type)) {
    case WireShape::kValue:
      return indent + builder + ".set" + suffix + "(" + valueExpr(type, expr) + ");\n";
    case WireShape::kSized:
      return indent + "toCapnp(" + expr + ", " + builder + ".init" + suffix + "(" +
             sizeExpr(expr) + "));\n";
    case WireShape::kStruct:
      return indent + "toCapnp(" + expr + ", " + builder + ".init" + suffix + "());\n";
  }
  return "";
}

std::string emitConversionDeclarations(const Schema& schema) {
  std::ostringstream out;
  for (const EnumDef& def : schema.enums) {
    std::string wire = enumWire(def, schema);
    out << "// " << def.qualifiedName << " <-> " << wire.substr(2) << "; both throw\n"
        << "// moonpool::Exception (kFailed) for a value with no counterpart.\n"
        << wire << " toCapnpValue(::" << def.qualifiedName << " from);\n"
        << "void fromCapnp(" << wire << " from, ::" << def.qualifiedName << "& to);\n";
  }
  for (const Record& record : schema.records) {
    if (record.kind != RecordKind::kMessage) continue;
    std::string wire = recordWire(record, schema);
    out << "// Writes every field of `from` into `to`; reads every field of `to` from `from`.\n"
        << "void toCapnp(const ::" << record.qualifiedName << "& from, " << wire
        << "::Builder to);\n"
        << "void fromCapnp(" << wire << "::Reader from, ::" << record.qualifiedName
        << "& to);\n";
  }
  return out.str();
}

std::string emitConversionDefinitions(const Schema& schema) {
  std::ostringstream out;
  out << kLeafHelpers;
  std::map<std::string, TypeRef> composites = compositeTypes(schema);
  if (!composites.empty()) out << "\n// Lists, maps and optionals, declared first: they nest.\n";
  for (const auto& [wire, type] : composites) out << compositeDeclarations(wire);
  for (const auto& [wire, type] : composites) {
    out << "\n";
    if (type.kind == TypeKind::kList) emitListConversions(wire, type, out);
    if (type.kind == TypeKind::kMap) emitMapConversions(wire, type, out);
    if (type.kind == TypeKind::kOptional) emitOptionalConversions(wire, type, out);
  }
  for (const EnumDef& def : schema.enums) {
    out << "\n";
    emitEnumConversions(def, schema, out);
  }
  for (const Record& record : schema.records) {
    if (record.kind != RecordKind::kMessage) continue;
    out << "\n";
    emitMessageConversions(record, schema, out);
  }
  return out.str();
}

}  // namespace moonpool::annotate
