// The Cap'n Proto schema emitter (annotate/ layer): validated Schema IR -> `.capnp` text.
//
// Deterministic: the output depends only on the IR (declaration order for types; members by
// ordinal, with the placeholders of retired ordinals; helper structs sorted by name; IDs
// from ids.h), never on addresses, time or paths, so the same header and lock file always
// give byte-identical output. Only call it on a Schema that passed every rule
// (rules/rule.h), whose ordinals the evolution stage assigned (evolution.h).
#pragma once

#include <string>

#include "ir.h"

namespace moonpool::annotate {

// "kv_store.h" -> "kv_store.capnp".
std::string capnpFileName(const Schema& schema);

// "kv_store.h" -> "kv_store.moonpool.lock" (kept next to the header, lock_file.h).
std::string lockFileName(const Schema& schema);

// The C++ namespace capnp generates code into: "<namespace of the first annotated type>
// ::schema", or "schema" when that type is in the global namespace.
std::string capnpCxxNamespace(const Schema& schema);

std::string emitCapnpSchema(const Schema& schema);

}  // namespace moonpool::annotate
