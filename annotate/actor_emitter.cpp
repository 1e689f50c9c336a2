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
      << "  // Runs a remote call of method ordinal `method` in a turn of `key`'s activation "
      << "(a\n  // host's gateway calls it; ActorRuntime::add registers it).\n"
      << "  [[clang::coro_wrapper]] static ::moonpool::Task<void> dispatch(\n"
      << "      ActorRuntime& runtime, ActorKey key, ::std::uint64_t chain, "
      << "::std::uint16_t method,\n"
      << "      ::capnp::AnyPointer::Reader params, internal::ActorResults& results);\n\n";
  for (const Method& method : record.methods) {
    out << "  using " << signatureName(method) << " = ::moonpool::internal::annotate::Signature<"
        << "decltype(&::" << record.qualifiedName << "::" << method.name << ")>;\n";
    bool interleaved = record.isReentrant || method.isReentrant;
    out << "  static constexpr MethodInfo " << methodInfoName(method) << "{\""
        << record.qualifiedName << "." << method.name << "\", Turns::"
        << (interleaved ? "kInterleaved" : "kExclusive") << ", " << method.ordinal << "};\n";
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

std::string wireOf(const Record& record, const Schema& schema) {
  return qualifiedCxxNamespace(schema) + "::" + record.schemaName;
}
std::string helperName(const char* verb, const Record& record, const Method& method) {
  return verb + ("Actor" + record.schemaName + capnpAccessorSuffix(method.name));
}
std::string paramsOf(const Record& record, const Method& method, const Schema& schema) {
  return wireOf(record, schema) + "::" + capnpAccessorSuffix(method.name) + "Params";
}
std::string resultsOf(const Record& record, const Method& method, const Schema& schema) {
  return wireOf(record, schema) + "::" + capnpAccessorSuffix(method.name) + "Results";
}

// Inside the schema's namespace (so conversions resolve as in the other generated code): the
// parameters of a remote call written into the gateway's request, and its result read from
// the answer. Plain functions: the ActorRef method's coroutine is the only frame of a call.
void emitRemoteAttempt(const Record& record, const Method& method, const Schema& schema,
                       std::ostringstream& out) {
  const std::string ref = "::moonpool::actors::" + refName(record);
  const std::string sig = ref + "::" + signatureName(method);
  if (!method.params.empty()) {
    out << "\nvoid " << helperName("write", record, method)
        << "(::capnp::AnyPointer::Builder to";
    for (size_t i = 0; i < method.params.size(); ++i) {
      out << ",\n    const " << sig << "::Value<" << i << ">& value" << i;
    }
    out << ") {\n  try {\n    auto request = to.initAs<" << paramsOf(record, method, schema)
        << ">();\n";
    for (size_t i = 0; i < method.params.size(); ++i) {
      out << emitFieldWrite(method.params[i].type, method.params[i].name, "request",
                            "value" + std::to_string(i), "    ");
    }
    out << "  } catch (const ::kj::Exception& error) {\n"
        << "    throw ::moonpool::fromKj(error);\n  }\n}\n";
  }
  if (method.result.kind == TypeKind::kVoid) return;
  out << "\n" << sig << "::Result::value_type " << helperName("read", record, method)
      << "(\n    const ::moonpool::actors::ActorReply& reply) {\n  try {\n"
      << "    auto response = reply.results<" << resultsOf(record, method, schema) << ">();\n"
      << "    " << sig << "::Result::value_type result{};\n"
      << "    fromCapnp(response.getResult(), result);\n"
      << "    return result;\n"
      << "  } catch (const ::kj::Exception& error) {\n"
      << "    throw ::moonpool::fromKj(error);\n  }\n}\n";
}

// A remote call's server side (ActorRef<A>::dispatch picks it): the parameters, read before
// the first co_await, then a turn of the local runtime in the gateway's task for this call
// (ActorRuntime::invokeInTask), then the result.
void emitServeInTurn(const Record& record, const Method& method, const Schema& schema,
                     std::ostringstream& out) {
  const std::string ref = "::moonpool::actors::" + refName(record);
  const std::string sig = ref + "::" + signatureName(method);
  const bool isVoid = method.result.kind == TypeKind::kVoid;
  out << "\n::moonpool::Task<void> " << helperName("serve", record, method)
      << "(::moonpool::actors::ActorRuntime& runtime,\n    ::moonpool::actors::ActorKey key, "
      << "::std::uint64_t chain,\n    " << (method.params.empty() ? "[[maybe_unused]] " : "")
      << "::capnp::AnyPointer::Reader params,\n    " << (isVoid ? "[[maybe_unused]] " : "")
      << "::moonpool::actors::internal::ActorResults& results) {\n";
  if (!method.params.empty()) {
    out << "  auto in = params.getAs<" << paramsOf(record, method, schema) << ">();\n";
  }
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << "  " << sig << "::Value<" << i << "> param" << i << "{};\n"
        << "  fromCapnp(in.get" << capnpAccessorSuffix(method.params[i].name) << "(), param"
        << i << ");\n";
  }
  std::string call = "runtime.invokeInTask<::" + record.qualifiedName + ", " + sig +
                     "::Result::value_type>(\n      " + ref + "::kTypeName, ::std::move(key), " +
                     ref + "::" + methodInfoName(method) + ", chain, &::" +
                     record.qualifiedName + "::" + method.name;
  for (size_t i = 0; i < method.params.size(); ++i) {
    call += ", ::std::move(param" + std::to_string(i) + ")";
  }
  call += ")";
  if (isVoid) {
    out << "  co_await " << call << ";\n}\n";
    return;
  }
  const std::string results = resultsOf(record, method, schema);
  out << "  auto result = co_await " << call << ";\n"
      << "  auto out = results.init(::capnp::sizeInWords<" << results << ">())\n"
      << "                 .initAs<" << results << ">();\n"
      << emitFieldWrite(method.result, "result", "out", "result", "  ") << "}\n";
}

// ActorRef<A>::dispatch: the method of a remote call, by its schema ordinal.
void emitDispatch(const Record& record, const Schema& schema, std::ostringstream& out) {
  const char* unused = record.methods.empty() ? "[[maybe_unused]] " : "";
  out << "\n::moonpool::Task<void> " << refName(record) << "::dispatch(\n    " << unused
      << "ActorRuntime& runtime, " << unused << "ActorKey key, " << unused
      << "::std::uint64_t chain,\n    ::std::uint16_t method, " << unused
      << "::capnp::AnyPointer::Reader params,\n    " << unused
      << "internal::ActorResults& results) {\n  switch (method) {\n";
  for (const Method& method : record.methods) {
    out << "    case " << method.ordinal << ":\n      return " << qualifiedCxxNamespace(schema)
        << "::" << helperName("serve", record, method)
        << "(runtime, ::std::move(key), chain, params,\n"
        << "                                         results);\n";
  }
  out << "    default:\n      return internal::unknownActorMethod(kTypeName, method);\n"
      << "  }\n}\n";
}

// The arguments are copied into the frame before the first co_await (STYLE.md rule 4), and
// so are the runtime and the key (ActorCall): the reference may go before the call ends.
// Each attempt runs in a local turn (a copy of the arguments: a refused turn leaves them for
// the next attempt) or remotely (ActorCall, cluster.h): one gateway call.
void emitRefMethod(const Record& record, const Method& method, const Schema& schema,
                   std::ostringstream& out) {
  const std::string sig = signatureName(method);
  const bool isVoid = method.result.kind == TypeKind::kVoid;
  const std::string ns = qualifiedCxxNamespace(schema) + "::";
  out << "\nauto " << refName(record) << "::" << method.name << "(";
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << (i == 0 ? "" : ", ") << sig << "::Param<" << i << "> param" << i;
  }
  out << ") const -> " << sig << "::Result {\n";
  for (size_t i = 0; i < method.params.size(); ++i) {
    out << "  " << sig << "::Value<" << i << "> value" << i << "(::std::forward<" << sig
        << "::Param<" << i << ">>(param" << i << "));\n";
  }
  out << "  ActorCall call(*runtime_, kTypeName, key_, " << methodInfoName(method)
      << ",\n                 ::moonpool::rpc::Delivery::"
      << (method.isIdempotent() ? "kAtLeastOnce" : "kAtMostOnce") << ");\n"
      << "  for (;;) {\n"
      << "    if (co_await call.next() == ActorCall::Route::kRemote) {\n";
  const std::string params = "call.params(::capnp::sizeInWords<" +
                             paramsOf(record, method, schema) + ">())";
  if (!method.params.empty()) {
    out << "      " << ns << helperName("write", record, method) << "(\n          " << params;
    for (size_t i = 0; i < method.params.size(); ++i) out << ", value" << i;
    out << ");\n";
  } else {
    out << "      " << params << ";\n";
  }
  out << "      ::std::optional<ActorReply> reply = co_await call.send();\n"
      << "      if (!reply.has_value()) continue;\n";
  if (isVoid) {
    out << "      co_return;\n";
  } else {
    out << "      co_return " << ns << helperName("read", record, method) << "(*reply);\n";
  }
  out << "    }\n    try {\n      "
      << (isVoid ? "co_await " : "co_return co_await ") << "call.runtime().invoke<::"
      << record.qualifiedName << ", " << sig << "::Result::value_type>(\n"
      << "          kTypeName, call.key(), " << methodInfoName(method) << ", call.chain(), &::"
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
  out << "\n#include <capnp/message.h>\n\n#include <cstdint>\n#include <optional>\n"
      << "#include <string>\n\n"
      << "#include \"moonpool/actors/cluster.h\"\n#include \"moonpool/actors/codec.h\"\n"
      << "\nnamespace " << qualifiedCxxNamespace(schema).substr(2) << " {\n";
  for (const Record& record : schema.records) {
    if (record.kind != RecordKind::kActor) continue;
    for (const Method& method : record.methods) {
      emitRemoteAttempt(record, method, schema, out);
      emitServeInTurn(record, method, schema, out);
    }
  }
  out << "\n}  // namespace " << qualifiedCxxNamespace(schema).substr(2) << "\n"
      << "\nnamespace moonpool::actors {\n";
  for (const Record& record : schema.records) {
    if (record.kind == RecordKind::kMessage) emitCodecDefinition(record, schema, out);
    if (record.kind != RecordKind::kActor) continue;
    emitDispatch(record, schema, out);
    for (const Method& method : record.methods) emitRefMethod(record, method, schema, out);
  }
  out << "\n}  // namespace moonpool::actors\n";
  return out.str();
}

}  // namespace moonpool::annotate
