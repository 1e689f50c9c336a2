// Actor references: emission of ActorRef<A> specializations (see actor_emitter.h).
#include "actor_emitter.h"

#include <sstream>

#include "cpp_conversions.h"

namespace moonpool::annotate {
namespace {

bool hasActors(const Schema& schema) {
  for (const Record& record : schema.records) {
    if (record.kind == RecordKind::kActor) return true;
  }
  return false;
}

std::string refName(const Record& record) {
  return "ActorRef<::" + record.qualifiedName + ">";
}

std::string signatureName(const Method& method) {
  return capnpAccessorSuffix(method.name) + "Signature";
}

std::string methodInfoName(const Method& method) {
  return "k" + capnpAccessorSuffix(method.name) + "Method";
}

void emitRefDeclaration(const Record& record, std::ostringstream& out) {
  const std::string ref = refName(record);
  out << "\n// The ::" << record.qualifiedName << " actor of one key: its public methods, "
      << "each run in a turn\n// of the key's activation (moonpool/actors/runtime.h). "
      << "Copyable; the runtime outlives\n// it and its calls.\n"
      << "template <>\nclass " << ref << " final {\n public:\n"
      << "  static constexpr const char* kTypeName = \"" << record.qualifiedName << "\";\n\n"
      << "  ActorRef(ActorRuntime& runtime, ActorKey key)\n"
      << "      : runtime_(&runtime), key_(::std::move(key)) {}\n"
      << "  const ActorKey& key() const { return key_; }\n\n";
  for (const Method& method : record.methods) {
    out << "  using " << signatureName(method) << " = ::moonpool::internal::annotate::Signature<"
        << "decltype(&::" << record.qualifiedName << "::" << method.name << ")>;\n";
    bool interleaved = record.isReentrant || method.isReentrant;
    out << "  static constexpr MethodInfo " << methodInfoName(method) << "{\""
        << record.qualifiedName << "." << method.name << "\", Turns::"
        << (interleaved ? "kInterleaved" : "kExclusive") << "};\n";
  }
  out << "\n";
  for (const Method& method : record.methods) {
    const std::string sig = signatureName(method);
    out << "  " << sig << "::Result " << method.name << "(";
    for (size_t i = 0; i < method.params.size(); ++i) {
      out << (i == 0 ? "" : ", ") << sig << "::Param<" << i << "> " << method.params[i].name;
      if (!method.params[i].defaultArgument.empty()) {
        out << " = " << method.params[i].defaultArgument;
      }
    }
    out << ") const;\n";
  }
  out << "\n private:\n  ActorRuntime* runtime_;\n  ActorKey key_;\n};\n";
}

// The arguments are copied into the frame before the first co_await (STYLE.md rule 4), and
// so are the runtime and the key: the reference may go before the call ends.
void emitRefMethod(const Record& record, const Method& method, std::ostringstream& out) {
  const std::string sig = signatureName(method);
  out << "\nauto " << refName(record) << "::" << method.name << "(";
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << (i == 0 ? "" : ", ") << sig << "::Param<" << i << "> param" << i;
  }
  out << ") const -> " << sig << "::Result {\n";
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << "  " << sig << "::Value<" << i << "> value" << i << "(::std::forward<" << sig
        << "::Param<" << i << ">>(param" << i << "));\n";
  }
  const bool isVoid = method.result.kind == TypeKind::kVoid;
  out << "  ActorRuntime* runtime = runtime_;\n  ActorKey key = key_;\n"
      << "  " << (isVoid ? "co_await " : "co_return co_await ") << "runtime->invoke<::"
      << record.qualifiedName << ", " << sig << "::Result::value_type>(\n"
      << "      kTypeName, ::std::move(key), " << methodInfoName(method) << ", &::"
      << record.qualifiedName << "::" << method.name;
  for (size_t i = 0; i < method.params.size(); ++i) out << ", ::std::move(value" << i << ")";
  out << ");\n}\n";
}

void emitCodecDeclaration(const Record& message, std::ostringstream& out) {
  const std::string type = "::" + message.qualifiedName;
  out << "\n// ::" << message.qualifiedName << " as bytes, for ActorState (state.h).\n"
      << "template <>\nstruct MessageCodec<" << type << "> {\n"
      << "  static ::std::string encode(const " << type << "& value);\n"
      << "  static void decode(::std::string_view bytes, " << type << "& value);\n};\n";
}

void emitCodecDefinition(const Record& message, const Schema& schema, std::ostringstream& out) {
  const std::string type = "::" + message.qualifiedName;
  const std::string wire = qualifiedCxxNamespace(schema) + "::" + message.schemaName;
  out << "\n::std::string MessageCodec<" << type << ">::encode(const " << type
      << "& value) {\n"
      << "  ::capnp::MallocMessageBuilder message;\n"
      << "  " << qualifiedCxxNamespace(schema) << "::toCapnp(value, message.initRoot<" << wire
      << ">());\n"
      << "  return internal::flatten(message);\n}\n"
      << "\nvoid MessageCodec<" << type << ">::decode(::std::string_view bytes, " << type
      << "& value) {\n"
      << "  try {\n"
      << "    internal::FlatMessage message(bytes);\n"
      << "    " << qualifiedCxxNamespace(schema) << "::fromCapnp(message.root<" << wire
      << ">(), value);\n"
      << "  } catch (const ::kj::Exception& error) {\n"
      << "    internal::throwCorrupt(\"" << message.qualifiedName << "\", error);\n"
      << "  }\n}\n";
}

}  // namespace

std::string emitActorDeclarations(const Schema& schema) {
  if (!hasActors(schema)) return "";
  std::ostringstream out;
  out << "\n#include <string_view>\n\n#include \"moonpool/actors/runtime.h\"\n"
      << "#include \"moonpool/actors/state.h\"\n\nnamespace moonpool::actors {\n";
  for (const Record& record : schema.records) {
    if (record.kind == RecordKind::kActor) emitRefDeclaration(record, out);
    if (record.kind == RecordKind::kMessage) emitCodecDeclaration(record, out);
  }
  out << "\n}  // namespace moonpool::actors\n";
  return out.str();
}

std::string emitActorDefinitions(const Schema& schema) {
  if (!hasActors(schema)) return "";
  std::ostringstream out;
  out << "\n#include <capnp/message.h>\n\n#include \"moonpool/actors/codec.h\"\n"
      << "\nnamespace moonpool::actors {\n";
  for (const Record& record : schema.records) {
    if (record.kind == RecordKind::kMessage) emitCodecDefinition(record, schema, out);
    if (record.kind != RecordKind::kActor) continue;
    for (const Method& method : record.methods) emitRefMethod(record, method, out);
  }
  out << "\n}  // namespace moonpool::actors\n";
  return out.str();
}

}  // namespace moonpool::annotate
