// The C++ glue emitter (annotate/ layer): validated Schema IR -> `x.moonpool.h` and
// `x.moonpool.cpp`, compiled together with the code `capnp compile -oc++` makes from
// `x.capnp`.
//
// Generated, into the schema's C++ namespace (`<ns>::schema`, next to capnp's types):
//   - conversions (cpp_conversions.h): toCapnp(message, Builder), fromCapnp(Reader, message&)
//     for every message, toCapnpValue/fromCapnp for every enum;
//   - per service S: `SServer`, a capnp `S::Server` calling a user `S&` (its calls run in the
//     TaskGroup that created it); `SClient`, an implementation of the user's interface `S`
//     calling through an `S::Client` capability; and `SRemote`, an implementation of `S`
//     over a reconnecting rpc::Peer (moonpool/rpc/peer.h) through rpc::Call, resending the
//     methods marked [[moonpool::idempotent]] after a reconnect;
//   - per actor A: `AServer` (the dispatcher: a capnp `A::Server` calling an `A&`) and
//     `ARef`, a typed reference with A's public methods calling through an `A::Client`.
// The generated files include the annotated header by its file name and `x.capnp.h`, so both
// directories go on the include path. Deterministic like the schema emitter: the output
// depends only on the IR. Only call these on a Schema that passed every rule.
#pragma once

#include <string>

#include "ir.h"

namespace moonpool::annotate {

// "kv_store.h" -> "kv_store.moonpool.h" / "kv_store.moonpool.cpp".
std::string cppHeaderFileName(const Schema& schema);
std::string cppSourceFileName(const Schema& schema);

std::string emitCppHeader(const Schema& schema);
std::string emitCppSource(const Schema& schema);

}  // namespace moonpool::annotate
