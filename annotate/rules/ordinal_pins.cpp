// Rule ordinal-pins (see README.md "Rules" and "Evolution"): every pin is one integer
// constant in Cap'n Proto's range, no two members of a struct, interface or enum are pinned
// to the same ordinal, and no pin sits on a member the schema does not contain (it would do
// nothing). The plugin already rejects most of these while parsing [[moonpool::ordinal]];
// this rule also covers the portable __attribute__((annotate("moonpool::ordinal", N))).
// What needs the lock file (holes, retired ordinals) is the evolution stage's (ordinals.h).
#include "ordinal_pins.h"

#include <map>

#include "../attributes.h"

namespace moonpool::annotate {
namespace {

// Checks the pins of one scope: the members of one record, or the enumerators of one enum.
class PinScope {
 public:
  PinScope(std::string owner, Reporter& reporter)
      : owner_(std::move(owner)), reporter_(reporter) {}

  void check(const std::string& what, const std::vector<OrdinalPin>& pins) {
    if (pins.empty()) return;
    std::string subject = what + " of " + owner_;
    if (pins.size() > 1) {
      reporter_.error(pins[1].loc, subject + " has more than one ordinal; keep one");
      return;
    }
    const OrdinalPin& pin = pins.front();
    if (!pin.value.has_value()) {
      reporter_.error(pin.loc, "the ordinal of " + subject +
                                   " is not an integer constant; write it as in "
                                   "'[[moonpool::ordinal(3)]]'");
      return;
    }
    if (*pin.value < 0 || *pin.value > kOrdinalMax) {
      reporter_.error(pin.loc, "ordinal " + std::to_string(*pin.value) + " of " + subject +
                                   " is out of range; Cap'n Proto ordinals go from 0 to " +
                                   std::to_string(kOrdinalMax));
      return;
    }
    auto [it, inserted] = seen_.emplace(*pin.value, what);
    if (inserted) return;
    reporter_.error(pin.loc, subject + " is pinned to @" + std::to_string(*pin.value) +
                                 ", like " + it->second + "; give each member its own ordinal");
  }

 private:
  std::string owner_;
  Reporter& reporter_;
  std::map<int64_t, std::string> seen_;  // pinned ordinal -> first member pinned there
};

}  // namespace

void checkOrdinalPins(const Schema& schema, Reporter& reporter) {
  for (const Record& record : schema.records) {
    PinScope scope(describeRecord(record), reporter);
    for (const Field& field : record.fields) scope.check("field '" + field.name + "'", field.pins);
    for (const Method& method : record.methods) {
      scope.check("method '" + method.name + "'", method.pins);
    }
    for (const StrayPin& stray : record.strayPins) {
      reporter.error(stray.loc, "the ordinal on '" + stray.memberName + "' of " +
                                    describeRecord(record) +
                                    " does nothing: that member is not part of the schema; "
                                    "remove it");
    }
  }
  for (const EnumDef& def : schema.enums) {
    PinScope scope("enum '" + def.qualifiedName + "'", reporter);
    for (const Enumerator& enumerator : def.enumerators) {
      scope.check("enumerator '" + enumerator.name + "'", enumerator.pins);
    }
  }
}

}  // namespace moonpool::annotate
