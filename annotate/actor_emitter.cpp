// Actor references: emission of ActorRef<A> specializations (see actor_emitter.h).
#include "actor_emitter.h"

#include <sstream>

#include "capnp_names.h"
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
      << "  const ActorKey& key() const { return key_; }\n"
      << "  // A capability serving this type's key `key` for calls of call chain `chain` "
      << "(what a\n  // host's gateway hands out; ActorRuntime::add registers it).\n"
      << "  static ::capnp::Capability::Client serve(ActorRuntime& runtime, ActorKey key,\n"
      << "                                           ::std::uint64_t chain);\n\n";
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

std::string serverName(const Record& record) { return record.schemaName + "ActorServer"; }
std::string wireOf(const Record& record, const Schema& schema) {
  return qualifiedCxxNamespace(schema) + "::" + record.schemaName;
}
std::string sendName(const Record& record, const Method& method) {
  return "sendActor" + record.schemaName + capnpAccessorSuffix(method.name);
}
// "::std::optional<R>" or "bool" (void methods): what a remote attempt yields.
std::string attemptType(const Record& record, const Method& method) {
  if (method.result.kind == TypeKind::kVoid) return "bool";
  return "::std::optional<::moonpool::actors::" + refName(record) + "::" +
         signatureName(method) + "::Result::value_type>";
}

// Inside the schema's namespace (so conversions resolve as in the other generated code):
// one remote attempt of each method, and the server adapter a gateway hands out, whose
// methods run in turns of the local runtime.
void emitRemoteAttempt(const Record& record, const Method& method, const Schema& schema,
                       std::ostringstream& out) {
  const std::string ref = "::moonpool::actors::" + refName(record);
  const std::string sig = ref + "::" + signatureName(method);
  out << "\n::moonpool::Task<" << attemptType(record, method) << "> " << sendName(record, method)
      << "(\n    ::moonpool::actors::ActorCall& call, ::capnp::Capability::Client target";
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << ",\n    const " << sig << "::Value<" << i << ">& value" << i;
  }
  out << ") {\n  try {\n"
      << "    auto request = target.castAs<" << wireOf(record, schema) << ">()."
      << toCapnpMemberName(method.name) << "Request();\n";
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << emitFieldWrite(method.params[i].type, method.params[i].name, "request",
                          "value" + std::to_string(i), "    ");
  }
  out << "    auto response = co_await call.reply(request.send());\n";
  if (method.result.kind == TypeKind::kVoid) {
    out << "    co_return response.has_value();\n";
  } else {
    out << "    if (!response.has_value()) co_return ::std::nullopt;\n"
        << "    " << sig << "::Result::value_type result{};\n"
        << "    fromCapnp(response->getResult(), result);\n"
        << "    co_return result;\n";
  }
  out << "  } catch (const ::kj::Exception& error) {\n"
      << "    throw ::moonpool::fromKj(error);\n  }\n}\n";
}

void emitServeInTurn(const Record& record, const Method& method, const Schema& schema,
                     std::ostringstream& out) {
  const std::string ref = "::moonpool::actors::" + refName(record);
  const std::string sig = ref + "::" + signatureName(method);
  const std::string wire = wireOf(record, schema);
  const std::string prefix = capnpAccessorSuffix(method.name);
  bool usesContext = !method.params.empty() || method.result.kind != TypeKind::kVoid;
  out << "\n::moonpool::Task<void> serveActor" << record.schemaName << prefix
      << "(::moonpool::actors::ActorRuntime& runtime,\n    ::moonpool::actors::ActorKey key, "
      << "::std::uint64_t chain,\n    " << (usesContext ? "" : "[[maybe_unused]] ")
      << "::capnp::CallContext<" << wire << "::" << prefix << "Params, " << wire << "::"
      << prefix << "Results> context) {\n";
  if (!method.params.empty()) out << "  auto params = context.getParams();\n";
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << "  " << sig << "::Value<" << i << "> param" << i << "{};\n"
        << "  fromCapnp(params.get" << capnpAccessorSuffix(method.params[i].name) << "(), param"
        << i << ");\n";
  }
  std::string call = "runtime.invoke<::" + record.qualifiedName + ", " + sig +
                     "::Result::value_type>(\n      " + ref + "::kTypeName, ::std::move(key), " +
                     ref + "::" + methodInfoName(method) + ", chain, &::" +
                     record.qualifiedName + "::" + method.name;
  for (size_t i = 0; i < method.params.size(); ++i) {
    call += ", ::std::move(param" + std::to_string(i) + ")";
  }
  call += ")";
  if (method.result.kind == TypeKind::kVoid) {
    out << "  co_await " << call << ";\n}\n";
    return;
  }
  out << "  auto result = co_await " << call << ";\n"
      << "  auto results = context.getResults();\n"
      << emitFieldWrite(method.result, "result", "results", "result", "  ") << "}\n";
}

void emitActorServer(const Record& record, const Schema& schema, std::ostringstream& out) {
  const std::string wire = wireOf(record, schema);
  out << "\n// Serves one key of ::" << record.qualifiedName << " for one call chain: each "
      << "call a turn of the\n// local runtime (what a host's gateway hands out, "
      << "moonpool/actors/cluster.h).\n"
      << "class " << serverName(record) << " final : public " << wire << "::Server {\n"
      << " public:\n  " << serverName(record)
      << "(::moonpool::actors::ActorRuntime& runtime, ::moonpool::actors::ActorKey key,\n"
      << "      ::std::uint64_t chain)\n"
      << "      : runtime_(runtime), key_(::std::move(key)), chain_(chain),\n"
      << "        group_(::moonpool::currentTaskGroup()) {}\n\n"
      << " protected:\n  // implements " << wire.substr(2) << "::Server\n";
  for (const Method& method : record.methods) {
    const std::string prefix = capnpAccessorSuffix(method.name);
    out << "  ::kj::Promise<void> " << toCapnpMemberName(method.name) << "(" << prefix
        << "Context context) override {\n"
        << "    context.allowCancellation();\n"
        << "    return ::moonpool::toPromise(serveActor" << record.schemaName << prefix
        << "(runtime_, key_, chain_, context),\n"
        << "                                 \"" << record.qualifiedName << "." << method.name
        << "\", group_);\n  }\n";
  }
  const char* unused = record.methods.empty() ? "[[maybe_unused]] " : "";
  out << "\n private:\n  " << unused << "::moonpool::actors::ActorRuntime& runtime_;\n  "
      << unused << "::moonpool::actors::ActorKey key_;\n  " << unused
      << "::std::uint64_t chain_;\n  " << unused << "::moonpool::TaskGroup* group_;  "
      << "// the gateway's calls (the host's)\n};\n";
}

// The arguments are copied into the frame before the first co_await (STYLE.md rule 4), and
// so are the runtime and the key: the reference may go before the call ends. Each attempt
// runs in a local turn (a copy of the arguments: a refused turn leaves them for the next
// attempt) or remotely (ActorCall, cluster.h).
void emitRefMethod(const Record& record, const Method& method, const Schema& schema,
                   std::ostringstream& out) {
  const std::string sig = signatureName(method);
  const bool isVoid = method.result.kind == TypeKind::kVoid;
  out << "\nauto " << refName(record) << "::" << method.name << "(";
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << (i == 0 ? "" : ", ") << sig << "::Param<" << i << "> param" << i;
  }
  out << ") const -> " << sig << "::Result {\n";
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << "  " << sig << "::Value<" << i << "> value" << i << "(::std::forward<" << sig
        << "::Param<" << i << ">>(param" << i << "));\n";
  }
  out << "  ActorRuntime* runtime = runtime_;\n"
      << "  ActorCall call(*runtime, kTypeName, key_, " << methodInfoName(method)
      << ",\n                 ::moonpool::rpc::Delivery::"
      << (method.isIdempotent() ? "kAtLeastOnce" : "kAtMostOnce") << ");\n"
      << "  for (;;) {\n"
      << "    ::std::optional<::capnp::Capability::Client> remote = co_await call.next();\n"
      << "    if (remote.has_value()) {\n"
      << "      auto answer = co_await " << qualifiedCxxNamespace(schema) << "::"
      << sendName(record, method) << "(call, *remote";
  for (size_t i = 0; i < method.params.size(); ++i) out << ", value" << i;
  out << ");\n";
  if (isVoid) {
    out << "      if (answer) co_return;\n";
  } else {
    out << "      if (answer.has_value()) co_return ::std::move(*answer);\n";
  }
  out << "      continue;\n    }\n    try {\n      "
      << (isVoid ? "co_await " : "co_return co_await ") << "runtime->invoke<::"
      << record.qualifiedName << ", " << sig << "::Result::value_type>(\n"
      << "          kTypeName, key_, " << methodInfoName(method) << ", call.chain(), &::"
      << record.qualifiedName << "::" << method.name;
  for (size_t i = 0; i < method.params.size(); ++i) out << ", value" << i;
  out << ");\n" << (isVoid ? "      co_return;\n" : "")
      << "    } catch (const ActorError& error) {\n"
      << "      if (!call.retryLocal(error)) throw;\n    }\n  }\n}\n";
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
  out << "\n#include <capnp/message.h>\n\n#include <cstdint>\n#include <optional>\n\n"
      << "#include \"moonpool/actors/cluster.h\"\n#include \"moonpool/actors/codec.h\"\n"
      << "\nnamespace " << qualifiedCxxNamespace(schema).substr(2) << " {\n";
  for (const Record& record : schema.records) {
    if (record.kind != RecordKind::kActor) continue;
    for (const Method& method : record.methods) {
      emitRemoteAttempt(record, method, schema, out);
      emitServeInTurn(record, method, schema, out);
    }
    emitActorServer(record, schema, out);
  }
  out << "\n}  // namespace " << qualifiedCxxNamespace(schema).substr(2) << "\n"
      << "\nnamespace moonpool::actors {\n";
  for (const Record& record : schema.records) {
    if (record.kind == RecordKind::kMessage) emitCodecDefinition(record, schema, out);
    if (record.kind != RecordKind::kActor) continue;
    out << "\n::capnp::Capability::Client " << refName(record)
        << "::serve(ActorRuntime& runtime, ActorKey key,\n"
        << "                                           ::std::uint64_t chain) {\n"
        << "  return ::kj::heap<" << qualifiedCxxNamespace(schema) << "::" << serverName(record)
        << ">(runtime, ::std::move(key), chain);\n}\n";
    for (const Method& method : record.methods) emitRefMethod(record, method, schema, out);
  }
  out << "\n}  // namespace moonpool::actors\n";
  return out.str();
}

}  // namespace moonpool::annotate
