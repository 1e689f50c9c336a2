// The evolution stage: ordinals, the diff against the lock file, the new lock (see
// evolution.h and README.md "Evolution").
#include "evolution.h"

#include <map>
#include <set>

#include "capnp_names.h"
#include "ordinals.h"

namespace moonpool::annotate {
namespace {

constexpr char kBreaks[] = ", which breaks the wire format; ";

std::string at(int ordinal) { return "@" + std::to_string(ordinal); }

// What the header calls a member of that kind (the lock file says "enumerant").
std::string memberNoun(LockKind kind) {
  return kind == LockKind::kEnum ? "enumerator" : liveStateWord(kind);
}

// Compares the schema with the lock file and reports each difference: an error with a hint,
// or under --lock=update a warning saying it was accepted.
class Differ {
 public:
  Differ(const LockInput& input, Reporter& reporter) : input_(input), reporter_(reporter) {}

  void report(clang::SourceLocation loc, const std::string& what, const std::string& hint,
              const std::string& accepted = "accepted by --lock=update") {
    if (input_.mode == LockMode::kUpdate) {
      reporter_.warning(loc, what + " (" + accepted + ")");
    } else {
      reporter_.error(loc, what + kBreaks + hint);
    }
  }

  // "line 7 of kv_store.moonpool.lock"
  std::string lockLine(int line) const {
    return "line " + std::to_string(line) + " of " + input_.lockName;
  }

  void compare(const NumberedScope& scope, const LockRecord& locked);

 private:
  void compareSignature(const NumberedScope& scope, const NumberedMember& member,
                        const LockEntry& locked);
  void compareParams(const NumberedMember& member, const LockEntry& locked);
  void checkAddition(const NumberedMember& member, const LockRecord& locked);

  const LockInput& input_;
  Reporter& reporter_;
};

void Differ::compare(const NumberedScope& scope, const LockRecord& locked) {
  std::map<std::string, const NumberedMember*> byName;
  std::map<int, const NumberedMember*> byOrdinal;
  for (const NumberedMember& member : scope.members) {
    byName[member.entry.name] = &member;
    byOrdinal[member.entry.ordinal] = &member;
  }
  std::set<std::string> lockedNames;
  for (const LockEntry& entry : locked.entries) {
    if (entry.state == LockState::kLive) lockedNames.insert(entry.name);
  }
  const std::string live = liveStateWord(scope.kind);
  for (const LockEntry& entry : locked.entries) {
    if (entry.state != LockState::kLive) continue;
    if (auto found = byName.find(entry.name); found != byName.end()) {
      const NumberedMember& member = *found->second;
      if (member.entry.ordinal != entry.ordinal) {
        report(member.loc,
               member.subject + " moved from " + at(entry.ordinal) + " to " +
                   at(member.entry.ordinal),
               "pin it back with '[[moonpool::ordinal(" + std::to_string(entry.ordinal) +
                   ")]]', or declare new members after the last one");
      } else {
        compareSignature(scope, member, entry);
      }
      continue;
    }
    std::string retire = "retire " + at(entry.ordinal) + " (change '" + live +
                         "' to 'retired' on " + lockLine(entry.line) +
                         ", or run with --lock=update)";
    auto occupant = byOrdinal.find(entry.ordinal);
    if (occupant != byOrdinal.end() && lockedNames.count(occupant->second->entry.name) == 0) {
      report(occupant->second->loc,
             occupant->second->subject + " reuses " + at(entry.ordinal) + " of the removed " +
                 memberNoun(scope.kind) + " '" + entry.name + "'",
             "a rename is a removal plus an addition: keep the old name, or " + retire +
                 " and declare the new member after the last one");
      continue;
    }
    report(scope.loc,
           memberNoun(scope.kind) + " '" + entry.name + "' (" + at(entry.ordinal) + ") of " +
               scope.description +
               " was removed",
           "to keep its ordinal from being reused, " + retire,
           "accepted by --lock=update: " + at(entry.ordinal) + " is now retired");
  }
  for (const NumberedMember& member : scope.members) {
    if (lockedNames.count(member.entry.name) == 0) checkAddition(member, locked);
  }
}

void Differ::compareSignature(const NumberedScope& scope, const NumberedMember& member,
                              const LockEntry& locked) {
  if (scope.kind == LockKind::kEnum || member.entry.type == locked.type) {
    if (scope.kind == LockKind::kService || scope.kind == LockKind::kActor) {
      compareParams(member, locked);
    }
    return;
  }
  if (scope.kind == LockKind::kMessage) {
    report(member.loc,
           "the type of " + member.subject + " changed from " + locked.type + " to " +
               member.entry.type,
           "keep the old type, and add a new field after the last one");
    return;
  }
  report(member.loc,
         "the result type of " + member.subject + " changed from " + locked.type + " to " +
             member.entry.type,
         "keep it, and add a new method after the last one");
  compareParams(member, locked);
}

// Parameters are the fields of the method's parameter struct: new ones may follow the old.
void Differ::compareParams(const NumberedMember& member, const LockEntry& locked) {
  const std::vector<LockParam>& now = member.entry.params;
  for (size_t i = 0; i < now.size() && i < locked.params.size(); ++i) {
    const LockParam& old = locked.params[i];
    std::string param = "parameter '" + member.paramCppNames[i] + "' of " + member.subject;
    if (now[i].name != old.name) {
      report(member.paramLocs[i],
             param + " takes position " + std::to_string(i + 1) + " from '" + old.name + "'",
             "keep the old parameters in order, and add new ones after them");
    } else if (now[i].type != old.type) {
      report(member.paramLocs[i],
             "the type of " + param + " changed from " + old.type + " to " + now[i].type,
             "keep it, and add a new parameter after the last one");
    }
  }
  for (size_t i = now.size(); i < locked.params.size(); ++i) {
    report(member.loc,
           "parameter '" + locked.params[i].name + "' of " + member.subject + " was removed",
           "keep it (it may go unused), or add a new method after the last one");
  }
}

void Differ::checkAddition(const NumberedMember& member, const LockRecord& locked) {
  if (member.entry.ordinal < static_cast<int>(locked.entries.size())) {
    return;  // on the ordinal of a moved or removed member: reported there
  }
  if (input_.mode == LockMode::kCheck) {
    reporter_.error(member.loc, member.subject + " is not in " + input_.lockName +
                                    " (--lock=check); run moonpool-annotate with --lock=auto "
                                    "and commit the lock file");
  }
}

// The lock record of `scope`: its members, the retired ordinals it had, and under
// --lock=update the ordinals of removed members, now retired too.
LockRecord lockRecordOf(const NumberedScope& scope, const LockRecord* locked, LockMode mode) {
  std::map<int, LockEntry> entries;
  for (const NumberedMember& member : scope.members) {
    entries.emplace(member.entry.ordinal, member.entry);
  }
  if (locked != nullptr) {
    for (const LockEntry& entry : locked->entries) {
      bool retire = entry.state == LockState::kRetired ||
                    (mode == LockMode::kUpdate && entries.count(entry.ordinal) == 0);
      if (!retire) continue;
      LockEntry retired = entry;
      retired.state = LockState::kRetired;
      entries.emplace(entry.ordinal, retired);
    }
  }
  LockRecord record{scope.kind, scope.qualifiedName, {}, 0};
  for (auto& [ordinal, entry] : entries) {
    entry.line = 0;
    record.entries.push_back(std::move(entry));
  }
  return record;
}

// Placeholders for the emitters, and the one clash they can cause.
int placeRetired(const NumberedScope& scope, const LockRecord& record, Reporter& reporter) {
  int errors = 0;
  for (const LockEntry& entry : record.entries) {
    if (entry.state != LockState::kRetired) continue;
    RetiredMember retired{entry.ordinal, entry.name,
                          scope.kind == LockKind::kMessage ? placeholderTypeOf(entry.type) : ""};
    std::string placeholder = retiredPlaceholderName(retired);
    for (const NumberedMember& member : scope.members) {
      if (member.entry.name != placeholder) continue;
      ++errors;
      reporter.error(member.loc, member.subject + " has the schema name '" + placeholder +
                                     "' of the placeholder kept for retired " +
                                     at(entry.ordinal) + "; rename it");
    }
    scope.retiredOut->push_back(std::move(retired));
  }
  return errors;
}

bool isDense(const LockRecord& record) {
  for (size_t i = 0; i < record.entries.size(); ++i) {
    if (record.entries[i].ordinal != static_cast<int>(i)) return false;
  }
  return true;
}

// Assigns and checks ordinals for every type; kind changes are reported here too, since they
// decide whether a type's lock record applies at all. Returns the lock record per scope.
std::vector<const LockRecord*> numberScopes(std::vector<NumberedScope>& scopes,
                                            const LockInput& input, Differ& differ,
                                            Reporter& reporter) {
  std::vector<const LockRecord*> lockedByScope;
  for (NumberedScope& scope : scopes) {
    const LockRecord* locked = nullptr;
    if (input.lock.has_value()) {
      auto found = input.lock->records.find(scope.qualifiedName);
      if (found != input.lock->records.end()) locked = &found->second;
    }
    if (locked != nullptr && locked->kind != scope.kind) {
      differ.report(scope.loc,
                    scope.description + " is locked as " +
                        (locked->kind == LockKind::kActor ? "an " : "a ") +
                        lockKindWord(locked->kind) + " (" + differ.lockLine(locked->line) + ")",
                    "give the new type a new name");
      locked = nullptr;  // under --lock=update the new type replaces the old one
    }
    std::set<int> retired;
    std::set<int> known;
    if (locked != nullptr) {
      for (const LockEntry& entry : locked->entries) {
        known.insert(entry.ordinal);
        if (entry.state == LockState::kRetired) retired.insert(entry.ordinal);
      }
    }
    assignOrdinals(scope, retired);
    checkOrdinals(scope, locked, known, reporter);
    lockedByScope.push_back(locked);
  }
  return lockedByScope;
}

// Types in the lock file that the header no longer has. Removing a service or actor breaks
// its callers; a message or enum that nothing uses any more just leaves the lock.
void reportVanished(const std::vector<NumberedScope>& scopes, const LockInput& input,
                    Differ& differ, Reporter& reporter) {
  std::set<std::string> present;
  for (const NumberedScope& scope : scopes) present.insert(scope.qualifiedName);
  for (const auto& [name, record] : input.lock->records) {
    if (present.count(name) != 0) continue;
    clang::SourceLocation loc = input.lockLocation(record.line, 1);
    std::string what = std::string(lockKindWord(record.kind)) + " '" + name + "' is in " +
                       input.lockName + " but no longer declared";
    if (record.kind == LockKind::kService || record.kind == LockKind::kActor) {
      differ.report(loc, what, "restore it, or run with --lock=update to drop it",
                    "dropped by --lock=update");
    } else if (input.mode == LockMode::kCheck) {
      reporter.error(loc, what + " (--lock=check); run moonpool-annotate with --lock=auto and "
                                 "commit the lock file");
    }
  }
}

}  // namespace

EvolutionOutcome evolveSchema(Schema& schema, const LockInput& input, Reporter& reporter) {
  const int before = reporter.errorCount();
  auto failed = [&] { return reporter.errorCount() > before; };
  std::vector<NumberedScope> scopes = numberedScopes(schema);
  if (input.mode == LockMode::kOff) {
    for (NumberedScope& scope : scopes) {
      assignOrdinals(scope, {});
      checkOrdinals(scope, nullptr, {}, reporter);
    }
    return {!failed(), std::nullopt};
  }
  if (input.mode == LockMode::kCheck && !input.lock.has_value()) {
    reporter.error(input.headerStart, "no lock file '" + input.lockPath +
                                          "' (--lock=check); create it with --lock=auto and "
                                          "commit it");
    return {false, std::nullopt};
  }
  Differ differ(input, reporter);
  std::vector<const LockRecord*> locked = numberScopes(scopes, input, differ, reporter);
  if (failed()) return {false, std::nullopt};
  for (size_t i = 0; i < scopes.size(); ++i) {
    if (locked[i] != nullptr) {
      differ.compare(scopes[i], *locked[i]);
    } else if (input.mode == LockMode::kCheck) {
      reporter.error(scopes[i].loc, scopes[i].description + " is not in " + input.lockName +
                                        " (--lock=check); run moonpool-annotate with "
                                        "--lock=auto and commit the lock file");
    }
  }
  if (input.lock.has_value()) reportVanished(scopes, input, differ, reporter);
  if (failed()) return {false, std::nullopt};
  LockFile next;
  for (size_t i = 0; i < scopes.size(); ++i) {
    LockRecord record = lockRecordOf(scopes[i], locked[i], input.mode);
    if (!isDense(record)) {  // the checks above should make this impossible
      reporter.error(scopes[i].loc, "internal error: the ordinals of " +
                                        scopes[i].description + " are not dense; please report");
    }
    placeRetired(scopes[i], record, reporter);
    next.records.emplace(record.qualifiedName, std::move(record));
  }
  if (failed()) return {false, std::nullopt};
  std::string text = printLockFile(next, schema.headerName);
  if (input.mode != LockMode::kCheck) return {true, text};
  if (text != input.lockText) {
    reporter.error(input.lockLocation(1, 1),
                   input.lockName + " is not in its canonical form (--lock=check); rewrite it "
                                    "with --lock=auto and commit it");
    return {false, std::nullopt};
  }
  return {true, std::nullopt};
}

}  // namespace moonpool::annotate
