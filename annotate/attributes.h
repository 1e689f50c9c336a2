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
#pragma once

#include <cstdint>

namespace moonpool::annotate {

// The annotation strings the attributes lower to; the AST mapper looks for exactly these.
inline constexpr char kServiceAnnotation[] = "moonpool::service";
inline constexpr char kActorAnnotation[] = "moonpool::actor";
inline constexpr char kMessageAnnotation[] = "moonpool::message";
inline constexpr char kOrdinalAnnotation[] = "moonpool::ordinal";

// Cap'n Proto's largest ordinal (its schema compiler rejects larger ones).
inline constexpr int64_t kOrdinalMax = 65535;

}  // namespace moonpool::annotate
