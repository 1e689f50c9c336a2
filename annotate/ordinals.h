// Ordinal assignment (annotate/ layer, part of the evolution stage, evolution.h).
//
// Every message field, service or actor method and enumerator gets a Cap'n Proto ordinal:
//   - a member pinned with [[moonpool::ordinal(N)]] gets N;
//   - the others, in declaration order, get the smallest ordinal that no member pins and the
//     lock file does not mark retired.
// So with no pins and nothing retired, ordinals are declaration order; pinning only the
// member inserted in the middle keeps the others where they were; and a retired ordinal is
// skipped without any pin. Cap'n Proto wants the ordinals of a type dense from 0: holes left
// by pins must be covered by the lock file (retired or, for the diff to report, removed).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ir.h"
#include "lock_file.h"
#include "reporter.h"

namespace moonpool::annotate {

// One numbered member of a struct, interface or enum, seen uniformly: what the evolution
// stage compares with the lock file, and where the assigned ordinal goes in the IR.
struct NumberedMember {
  std::string subject;  // "field 'user_id' of message 'Put'", for diagnostics
  clang::SourceLocation loc;
  const OrdinalPin* pin = nullptr;  // the single valid pin (the ordinal-pins rule ran), if any
  int* ordinal = nullptr;           // into the IR
  LockEntry entry;                  // as it would be locked; entry.ordinal set by assignment
  std::vector<std::string> paramCppNames;  // methods: parallel to entry.params
  std::vector<clang::SourceLocation> paramLocs;
};

// A struct, interface or enum of the schema.
struct NumberedScope {
  LockKind kind = LockKind::kMessage;
  std::string qualifiedName;
  std::string description;  // "message 'Put'", "enum 'demo::Color'"
  clang::SourceLocation loc;
  std::vector<NumberedMember> members;  // declaration order
  std::vector<RetiredMember>* retiredOut = nullptr;  // into the IR, for the emitters
};

// Views of every record and enum of `schema`; they point into it (keep it alive, unchanged
// in shape).
std::vector<NumberedScope> numberedScopes(Schema& schema);

// Assigns every member's ordinal (IR and entry) from its pin, else the smallest ordinal
// neither pinned nor in `retired`.
void assignOrdinals(NumberedScope& scope, const std::set<int>& retired);

// After assignment: reports pins on retired ordinals, holes (ordinals of 0..max that no
// member has and `known` does not contain: `known` holds the lock's ordinals of this type),
// and members named like a retired ordinal's placeholder. Returns the number of errors.
int checkOrdinals(const NumberedScope& scope, const LockRecord* locked,
                  const std::set<int>& known, Reporter& reporter);

}  // namespace moonpool::annotate
