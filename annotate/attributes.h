// The moonpool C++ attributes (annotate/ layer): names shared by the attribute plugin and
// the moonpool-annotate tool.
//
// attributes.cpp registers [[moonpool::service]], [[moonpool::actor]] and
// [[moonpool::message]] with clang's ParsedAttrInfoRegistry. The same source file is
// compiled into the tool and into the -fplugin module libmoonpool_attrs.so, so a normal
// compile and the generator agree on what is accepted. Each attribute is lowered to
// `AnnotateAttr("moonpool::<name>")`, which is also what
// `__attribute__((annotate("moonpool::<name>")))` produces, the spelling portable to
// compilers without the plugin.
//
// [[moonpool::ordinal(N)]] pins the Cap'n Proto ordinal of a message field, a service or
// actor method, or an enumerator (README.md "Evolution"); it lowers to
// `AnnotateAttr("moonpool::ordinal", N)`, as `__attribute__((annotate("moonpool::ordinal",
// N)))` does.
//
// [[moonpool::idempotent]] marks a service method as safe to run more than once: the
// generated XRemote client (rpc/peer.h) resends it after a reconnect (at-least-once); other
// methods are sent at most once. It changes no schema and no lock file. It lowers to
// `AnnotateAttr("moonpool::idempotent")`, as `__attribute__((annotate("moonpool::idempotent")))`
// does. Methods of a [[moonpool::service]] and public methods of a [[moonpool::actor]] take
// it (an actor's ActorRef<A> routes idempotent calls at least once, cluster.h).
#pragma once

#include <cstdint>
#include <string>

namespace moonpool::annotate {

// The annotation strings the attributes lower to; the AST mapper looks for exactly these.
inline constexpr char kServiceAnnotation[] = "moonpool::service";
inline constexpr char kActorAnnotation[] = "moonpool::actor";
inline constexpr char kMessageAnnotation[] = "moonpool::message";
inline constexpr char kOrdinalAnnotation[] = "moonpool::ordinal";
inline constexpr char kIdempotentAnnotation[] = "moonpool::idempotent";
// [[moonpool::reentrant]] on a [[moonpool::actor]] (every method) or on one public method of
// an actor: calls to it interleave with the activation's other calls at their co_awaits
// instead of waiting for a turn of their own (capnp/include/moonpool/actors/actor.h). It
// changes no schema and no lock file. Write it after [[moonpool::actor]] on a class.
inline constexpr char kReentrantAnnotation[] = "moonpool::reentrant";

// Cap'n Proto's largest ordinal (its schema compiler rejects larger ones).
inline constexpr int64_t kOrdinalMax = 65535;

// The wording of every [[moonpool::idempotent]] misuse, shared by the attribute (while
// parsing) and the tool's idempotent-methods rule (the portable annotate spelling), so both
// report the same text.
inline std::string idempotentMisplacedMessage() {
  return "'moonpool::idempotent' only applies to methods of a [[moonpool::service]] or a "
         "[[moonpool::actor]]; mark each method that is safe to run twice instead";
}
inline std::string idempotentArgumentsMessage() {
  return "'moonpool::idempotent' takes no arguments; remove them";
}
// `owner` as in "actor 'Account'" or "class 'Plain'".
inline std::string idempotentNotServiceMessage(const std::string& method,
                                               const std::string& owner) {
  return "'moonpool::idempotent' on method '" + method + "' of " + owner +
         " does nothing: only methods of a [[moonpool::service]] or a [[moonpool::actor]] "
         "are resent after a reconnect; remove it";
}
// A constructor, destructor or assignment operator of a service.
inline std::string idempotentSpecialMemberMessage(const std::string& member,
                                                  const std::string& owner) {
  return "'moonpool::idempotent' on '" + member + "' of " + owner +
         " does nothing: constructors, destructors and assignment operators are not part of "
         "the schema; remove it";
}

}  // namespace moonpool::annotate
