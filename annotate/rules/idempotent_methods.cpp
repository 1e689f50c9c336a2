// Rule idempotent-methods (see README.md "Rules"): [[moonpool::idempotent]] tells the
// generated XRemote client (or an actor's ActorRef) to send a call again after a reconnect,
// so it means something only on a method of a service's or an actor's schema; anywhere else
// it would silently do nothing, and it takes no arguments. The attribute reports all of this while
// parsing; this rule covers the portable __attribute__((annotate("moonpool::idempotent"))),
// with the same wording (attributes.h).
#include "idempotent_methods.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "../attributes.h"

namespace moonpool::annotate {
namespace {

using Problem = std::pair<clang::SourceLocation, std::string>;

// "actor 'Account'", "class 'Plain'": the class declaring a stray method.
std::string describeOwner(const StrayIdempotent& stray) {
  std::string name = "'" + stray.ownerName + "'";
  if (!stray.ownerKind.has_value()) return "class " + name;
  switch (*stray.ownerKind) {
    case RecordKind::kService: return "service " + name;
    case RecordKind::kActor: return "actor " + name;
    case RecordKind::kMessage: return "message " + name;
  }
  return "class " + name;
}

// The attribute's own order of checks: placement first, then arguments, then the owner.
std::string messageFor(const StrayIdempotent& stray) {
  if (stray.place == StrayIdempotent::Place::kNotAMethod) return idempotentMisplacedMessage();
  if (stray.mark.hasArguments) return idempotentArgumentsMessage();
  if (stray.place == StrayIdempotent::Place::kSpecialMember) {
    return idempotentSpecialMemberMessage(stray.memberName, describeOwner(stray));
  }
  return idempotentNotServiceMessage(stray.memberName, describeOwner(stray));
}

}  // namespace

void checkIdempotentMethods(const Schema& schema, Reporter& reporter) {
  std::vector<Problem> problems;
  for (const Record& record : schema.records) {
    if (record.kind == RecordKind::kMessage) continue;
    for (const Method& method : record.methods) {
      for (const IdempotentMark& mark : method.idempotentMarks) {
        if (mark.hasArguments) problems.emplace_back(mark.loc, idempotentArgumentsMessage());
      }
    }
  }
  for (const StrayIdempotent& stray : schema.strayIdempotent) {
    problems.emplace_back(stray.mark.loc, messageFor(stray));
  }
  // Source order (one file: locations order by offset), as the compiler would report them.
  // Two marks never share a location, so the order is total (std::stable_sort is not used:
  // libstdc++ 12's trips clang 19's deprecation warning).
  std::sort(problems.begin(), problems.end(),
            [](const Problem& a, const Problem& b) { return a.first < b.first; });
  for (const auto& [loc, message] : problems) reporter.error(loc, message);
}

}  // namespace moonpool::annotate
