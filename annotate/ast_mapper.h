// The AST mapper: clang AST of one header -> Schema IR (annotate/ layer).
//
// Finds the class and struct definitions in the main file that carry a moonpool
// annotation (from [[moonpool::...]] or __attribute__((annotate("moonpool::...")))) and
// records facts about them in declaration order. Declarations in included headers are not
// mapped: every header gets its own schema. It also records every [[moonpool::idempotent]]
// of the header that is not on a method of a service's schema (Schema::strayIdempotent).
// The mapper judges nothing; see ir.h and rules/.
#pragma once

#include <clang/AST/ASTContext.h>
#include <clang/AST/Decl.h>

#include <optional>

#include "ir.h"

namespace moonpool::annotate {

// The moonpool annotation on `decl` (or on its definition), if any.
std::optional<RecordKind> moonpoolKindOf(const clang::Decl& decl);

// The [[moonpool::ordinal(N)]] pins on a field, method or enumerator, in source order.
std::vector<OrdinalPin> ordinalPinsOf(const clang::Decl& decl, clang::ASTContext& context);

// The [[moonpool::idempotent]] marks on a declaration, in source order.
std::vector<IdempotentMark> idempotentMarksOf(const clang::Decl& decl);

Schema mapTranslationUnit(clang::ASTContext& context);

}  // namespace moonpool::annotate
