// The evolution stage (annotate/ layer): between the rules and the emitters, it assigns
// ordinals (ordinals.h), compares the schema with the header's lock file (lock_file.h), and
// reports every wire-breaking change like a compiler error, at the declaration in the header
// (README.md "Evolution"):
//   - a member whose ordinal moved (reordering, or an insertion before it),
//   - a changed field type, parameter type or result type,
//   - a removed field, method, enumerant, parameter, service or actor,
//   - a renamed member (to the wire, a removal plus an addition at the same ordinal).
// Adding members after the last ordinal, and new types, are compatible: the lock grows.
//
// Modes (moonpool-annotate --lock=...):
//   auto    the default: no lock file yet -> write one; else check, and record additions;
//   check   for CI: the lock file must exist and already match; it is never written;
//   update  deliberate breaks: every difference is accepted with a warning, removed members
//           are retired (their ordinals never reused), and the lock is rewritten;
//   off     no lock file is read or written; ordinals from declaration order and pins only.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ir.h"
#include "lock_file.h"
#include "reporter.h"

namespace moonpool::annotate {

enum class LockMode { kAuto, kCheck, kUpdate, kOff };

struct LockInput {
  LockMode mode = LockMode::kAuto;
  std::optional<LockFile> lock;  // nullopt: there is no lock file (or mode is kOff)
  std::string lockText;          // the lock file's bytes as read (check mode compares them)
  std::string lockPath;          // where the lock file is (or would be)
  std::string lockName;          // its file name, for hints ("kv_store.moonpool.lock")
  // Maps a 1-based line and column of the lock file to a location clang can print; only
  // called when `lock` holds a value.
  std::function<clang::SourceLocation(int line, int column)> lockLocation;
  clang::SourceLocation headerStart;  // for problems with no better place
};

struct EvolutionOutcome {
  bool ok = false;
  // The lock file to write (auto, update), or nullopt (check, off, or failure).
  std::optional<std::string> lockText;
};

// Fills every ordinal and retired placeholder of `schema`; reports through `reporter`.
EvolutionOutcome evolveSchema(Schema& schema, const LockInput& input, Reporter& reporter);

}  // namespace moonpool::annotate
