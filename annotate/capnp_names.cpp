// Name conversion and type spelling for the Cap'n Proto schema (see capnp_names.h).
#include "capnp_names.h"

#include <array>
#include <cctype>
#include <vector>

namespace moonpool::annotate {
namespace {

// Splits on underscores, dropping empty parts ("__a_b" -> {"a", "b"}).
std::vector<std::string> splitWords(std::string_view name) {
  std::vector<std::string> words;
  std::string current;
  for (char c : name) {
    if (c == '_') {
      if (!current.empty()) words.push_back(current);
      current.clear();
      continue;
    }
    current.push_back(c);
  }
  if (!current.empty()) words.push_back(current);
  return words;
}

bool isAllUpper(const std::string& word) {
  for (char c : word) {
    if (std::islower(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// An ALL_CAPS word becomes "Word"; other words keep their inner case.
std::string capitalized(std::string word) {
  if (isAllUpper(word)) {
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!word.empty()) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
  return word;
}

}  // namespace

std::string toCapnpTypeName(std::string_view cppName) {
  std::string out;
  for (const std::string& word : splitWords(cppName)) out += capitalized(word);
  return out;
}

std::string toCapnpMemberName(std::string_view cppName) {
  std::string out = toCapnpTypeName(cppName);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

bool isCapnpReservedWord(std::string_view name) {
  // Schema-language keywords and builtin names, and capnp's C++ code generator's own names.
  static constexpr std::array<std::string_view, 17> kReserved = {
      "annotation", "const", "embed",  "enum", "extends", "false", "group", "import", "inf",
      "interface",  "nan",   "struct", "true", "union",   "using", "void",  "which"};
  for (std::string_view word : kReserved) {
    if (word == name) return true;
  }
  return false;
}

bool isPlainIdentifier(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string helperTypeName(const TypeRef& type) {
  if (const char* scalar = scalarCapnpName(type.kind)) return scalar;
  switch (type.kind) {
    case TypeKind::kList:
      return "List" + helperTypeName(type.args.at(0));
    case TypeKind::kOptional:
      return "Optional" + helperTypeName(type.args.at(0));
    case TypeKind::kMap:
      return "Map" + helperTypeName(type.args.at(0)) + helperTypeName(type.args.at(1));
    case TypeKind::kEnum:
    case TypeKind::kMessage: {
      if (!type.schemaName.empty()) return type.schemaName;
      std::string_view qualified = type.qualifiedName;
      size_t colon = qualified.rfind("::");
      return toCapnpTypeName(colon == std::string_view::npos ? qualified
                                                             : qualified.substr(colon + 2));
    }
    default:
      return "Unsupported";
  }
}

namespace {

// "outer::inner::Msg" -> "OuterInnerMsg".
std::string qualifiedSchemaName(std::string_view qualified) {
  std::string out;
  for (size_t start = 0;;) {
    size_t colon = qualified.find("::", start);
    out += toCapnpTypeName(qualified.substr(start, colon - start));
    if (colon == std::string_view::npos) return out;
    start = colon + 2;
  }
}

void nameReferences(TypeRef& type, const std::map<std::string, std::string>& names) {
  if (auto it = names.find(type.qualifiedName);
      it != names.end() && (type.kind == TypeKind::kEnum || type.kind == TypeKind::kMessage)) {
    type.schemaName = it->second;
  }
  for (TypeRef& arg : type.args) nameReferences(arg, names);
}

}  // namespace

void assignSchemaNames(Schema& schema) {
  std::map<std::string, int> uses;  // short schema name -> how many types want it
  for (const Record& record : schema.records) ++uses[toCapnpTypeName(record.name)];
  for (const EnumDef& def : schema.enums) ++uses[toCapnpTypeName(def.name)];
  auto pick = [&uses](const std::string& name, const std::string& qualified) {
    std::string shortName = toCapnpTypeName(name);
    return uses[shortName] > 1 ? qualifiedSchemaName(qualified) : shortName;
  };
  std::map<std::string, std::string> names;  // qualified C++ name -> schema name
  for (Record& record : schema.records) {
    record.schemaName = pick(record.name, record.qualifiedName);
    names[record.qualifiedName] = record.schemaName;
  }
  for (EnumDef& def : schema.enums) {
    def.schemaName = pick(def.name, def.qualifiedName);
    names[def.qualifiedName] = def.schemaName;
  }
  for (Record& record : schema.records) {
    for (Field& field : record.fields) nameReferences(field.type, names);
    for (Method& method : record.methods) {
      nameReferences(method.result, names);
      for (Field& param : method.params) nameReferences(param.type, names);
    }
  }
}

std::string helperStructName(const TypeRef& type) {
  if (type.kind == TypeKind::kMap) return helperTypeName(type) + "Entry";
  return helperTypeName(type);
}

std::string capnpTypeExpr(const TypeRef& type) {
  if (const char* scalar = scalarCapnpName(type.kind)) return scalar;
  switch (type.kind) {
    case TypeKind::kList:
      return "List(" + capnpTypeExpr(type.args.at(0)) + ")";
    case TypeKind::kMap:
      return "List(" + helperStructName(type) + ")";
    default:
      return helperTypeName(type);
  }
}

const char* scalarCapnpName(TypeKind kind) {
  switch (kind) {
    case TypeKind::kVoid: return "Void";
    case TypeKind::kBool: return "Bool";
    case TypeKind::kInt8: return "Int8";
    case TypeKind::kInt16: return "Int16";
    case TypeKind::kInt32: return "Int32";
    case TypeKind::kInt64: return "Int64";
    case TypeKind::kUInt8: return "UInt8";
    case TypeKind::kUInt16: return "UInt16";
    case TypeKind::kUInt32: return "UInt32";
    case TypeKind::kUInt64: return "UInt64";
    case TypeKind::kFloat32: return "Float32";
    case TypeKind::kFloat64: return "Float64";
    case TypeKind::kText: return "Text";
    case TypeKind::kData: return "Data";
    default: return nullptr;
  }
}

}  // namespace moonpool::annotate

namespace moonpool::annotate {
namespace {

void collectHelpers(const TypeRef& type, std::map<std::string, TypeRef>& helpers) {
  for (const TypeRef& arg : type.args) collectHelpers(arg, helpers);
  if (type.kind == TypeKind::kOptional || type.kind == TypeKind::kMap) {
    helpers.emplace(helperStructName(type), type);
  }
}

}  // namespace

std::string retiredPlaceholderName(const RetiredMember& retired) {
  return "retired" + std::to_string(retired.ordinal) + toCapnpTypeName(retired.capnpName);
}

std::map<std::string, TypeRef> helperStructs(const Schema& schema) {
  std::map<std::string, TypeRef> helpers;
  for (const Record& record : schema.records) {
    for (const Field& field : record.fields) collectHelpers(field.type, helpers);
    for (const Method& method : record.methods) {
      collectHelpers(method.result, helpers);
      for (const Field& param : method.params) collectHelpers(param.type, helpers);
    }
  }
  return helpers;
}

}  // namespace moonpool::annotate
