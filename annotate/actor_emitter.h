// The actor emitter (annotate/ layer): per [[moonpool::actor]] A, a specialization of
// moonpool::actors::ActorRef<A> (capnp/include/moonpool/actors/actor.h), appended to the
// generated `x.moonpool.h` / `x.moonpool.cpp` after the schema's namespace.
//
// ActorRef<A> has A's public methods (the schema's: lifecycle hooks onActivate and
// onDeactivate are left out by the AST mapper), each calling ActorRuntime::invoke with a
// MethodInfo whose Turns is kInterleaved when the method or A carries
// [[moonpool::reentrant]], kExclusive otherwise. Types are taken from the member functions
// through the Signature traits, as in the other generated clients. Each method's MethodInfo
// carries its schema ordinal: a remote call is one Gateway.call (capnp/src/actors/wire.capnp)
// whose params and results are the method's Params and Results structs, and the static
// ActorRef<A>::dispatch runs it on the host by that ordinal. With them, for every
// [[moonpool::message]] M of the header, MessageCodec<M> (state.h): M as flat Cap'n Proto
// bytes, for ActorState<M>. Both functions return
// an empty string for a schema without actors, so headers without actors generate exactly
// what they did before.
#pragma once

#include <string>

#include "ir.h"

namespace moonpool::annotate {

std::string emitActorDeclarations(const Schema& schema);
std::string emitActorDefinitions(const Schema& schema);

}  // namespace moonpool::annotate
