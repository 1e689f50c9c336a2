// The validation rule interface and the explicit list of rules (annotate/ layer).
//
// A rule inspects the whole Schema IR and reports each problem through the Reporter; it
// never changes the IR. Every rule lives in its own file pair under rules/, is listed once
// in rule_list.cpp, documented in annotate/README.md "Rules", and tested in
// test/annotate/diagnostics_test.cpp with an exact-output case and a must-not-fire case.
#pragma once

#include <span>
#include <string>

#include "../ir.h"
#include "../reporter.h"

namespace moonpool::annotate {

struct Rule {
  const char* name;     // kebab-case, as in README.md
  const char* summary;  // one line
  void (*check)(const Schema& schema, Reporter& reporter);
};

// Every rule, in the order they run.
std::span<const Rule> allRules();

// Runs every rule; returns the number of errors reported.
int runAllRules(const Schema& schema, Reporter& reporter);

// Shared wording: "service 'KvStore'", "actor 'Account'", "message 'Put'".
std::string describeRecord(const Record& record);

}  // namespace moonpool::annotate
