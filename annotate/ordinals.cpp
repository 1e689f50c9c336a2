// Ordinal assignment and its checks (see ordinals.h).
#include "ordinals.h"

#include <algorithm>

#include "capnp_names.h"
#include "lock_file.h"
#include "rules/rule.h"

namespace moonpool::annotate {
namespace {

const OrdinalPin* validPin(const std::vector<OrdinalPin>& pins) {
  // The ordinal-pins rule ran before: at most one pin, with a value in range.
  return pins.size() == 1 && pins.front().value.has_value() ? &pins.front() : nullptr;
}

NumberedMember fieldMember(const Record& record, Field& field) {
  NumberedMember member;
  member.subject = "field '" + field.name + "' of " + describeRecord(record);
  member.loc = field.loc;
  member.pin = validPin(field.pins);
  member.ordinal = &field.ordinal;
  member.entry.name = toCapnpMemberName(field.name);
  member.entry.type = lockTypeOf(field.type);
  return member;
}

NumberedMember methodMember(const Record& record, Method& method) {
  NumberedMember member;
  member.subject = "method '" + method.name + "' of " + describeRecord(record);
  member.loc = method.loc;
  member.pin = validPin(method.pins);
  member.ordinal = &method.ordinal;
  member.entry.name = toCapnpMemberName(method.name);
  member.entry.type = lockTypeOf(method.result);
  for (const Field& param : method.params) {
    member.entry.params.push_back({toCapnpMemberName(param.name), lockTypeOf(param.type)});
    member.paramCppNames.push_back(param.name);
    member.paramLocs.push_back(param.loc);
  }
  return member;
}

LockKind lockKindOf(RecordKind kind) {
  switch (kind) {
    case RecordKind::kMessage: return LockKind::kMessage;
    case RecordKind::kService: return LockKind::kService;
    case RecordKind::kActor: return LockKind::kActor;
  }
  return LockKind::kMessage;
}

}  // namespace

std::vector<NumberedScope> numberedScopes(Schema& schema) {
  std::vector<NumberedScope> scopes;
  for (Record& record : schema.records) {
    NumberedScope scope{lockKindOf(record.kind), record.qualifiedName, describeRecord(record),
                        record.loc, {}, &record.retired};
    for (Field& field : record.fields) scope.members.push_back(fieldMember(record, field));
    for (Method& method : record.methods) scope.members.push_back(methodMember(record, method));
    scopes.push_back(std::move(scope));
  }
  for (EnumDef& def : schema.enums) {
    NumberedScope scope{LockKind::kEnum, def.qualifiedName, "enum '" + def.qualifiedName + "'",
                        def.loc, {}, &def.retired};
    for (Enumerator& enumerator : def.enumerators) {
      NumberedMember member;
      member.subject = "enumerator '" + enumerator.name + "' of " + scope.description;
      member.loc = enumerator.loc;
      member.pin = validPin(enumerator.pins);
      member.ordinal = &enumerator.ordinal;
      member.entry.name = toCapnpMemberName(enumerator.name);
      scope.members.push_back(std::move(member));
    }
    scopes.push_back(std::move(scope));
  }
  return scopes;
}

void assignOrdinals(NumberedScope& scope, const std::set<int>& retired) {
  std::set<int> taken = retired;
  for (const NumberedMember& member : scope.members) {
    if (member.pin != nullptr) taken.insert(static_cast<int>(*member.pin->value));
  }
  int next = 0;
  for (NumberedMember& member : scope.members) {
    int ordinal = 0;
    if (member.pin != nullptr) {
      ordinal = static_cast<int>(*member.pin->value);
    } else {
      while (taken.count(next) != 0) ++next;
      ordinal = next++;
    }
    *member.ordinal = ordinal;
    member.entry.ordinal = ordinal;
  }
}

int checkOrdinals(const NumberedScope& scope, const LockRecord* locked,
                  const std::set<int>& known, Reporter& reporter) {
  int errors = 0;
  std::set<int> used = known;
  for (const NumberedMember& member : scope.members) used.insert(member.entry.ordinal);
  int end = used.empty() ? 0 : *used.rbegin() + 1;  // the first ordinal after every use
  for (const NumberedMember& member : scope.members) {
    int ordinal = member.entry.ordinal;
    if (member.pin == nullptr || locked == nullptr ||
        ordinal >= static_cast<int>(locked->entries.size()) ||
        locked->entries[ordinal].state != LockState::kRetired) {
      continue;
    }
    ++errors;
    reporter.error(member.pin->loc,
                   member.subject + " is pinned to @" + std::to_string(ordinal) +
                       ", which is retired (it was '" + locked->entries[ordinal].name +
                       "'); retired ordinals are never reused: pin it to @" +
                       std::to_string(end));
  }
  // Only pins leave holes: an unpinned member always takes the smallest free ordinal.
  for (int hole = 0; hole < end; ++hole) {
    if (used.count(hole) != 0) continue;
    const NumberedMember* blamed = nullptr;
    for (const NumberedMember& member : scope.members) {
      if (member.pin == nullptr || member.entry.ordinal < hole) continue;
      if (blamed == nullptr || member.entry.ordinal < blamed->entry.ordinal) blamed = &member;
    }
    if (blamed == nullptr) break;  // unreachable: see above
    ++errors;
    reporter.error(blamed->pin->loc,
                   blamed->subject + " is pinned to @" + std::to_string(blamed->entry.ordinal) +
                       ", which leaves @" + std::to_string(hole) +
                       " unused; Cap'n Proto ordinals have no holes: pin it to @" +
                       std::to_string(hole));
    break;  // one per type: fixing it renumbers the rest
  }
  return errors;
}

}  // namespace moonpool::annotate
