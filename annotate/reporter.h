// Compiler-style error reporting for the rules (annotate/ layer).
//
// Errors go through clang's DiagnosticsEngine with a custom diagnostic ID, so they print
// exactly like compiler errors (`file:line:col: error: ...` plus the source line and a
// caret) and make the tool's run fail. Messages start lower-case, quote the names
// involved, and say the fix (STYLE.md rule 17).
#pragma once

#include <clang/Basic/Diagnostic.h>

#include <string>

namespace moonpool::annotate {

class Reporter {
 public:
  // `diagnostics` outlives the reporter.
  explicit Reporter(clang::DiagnosticsEngine& diagnostics);

  void error(clang::SourceLocation loc, const std::string& message);
  // Not counted in errorCount(): the run still succeeds.
  void warning(clang::SourceLocation loc, const std::string& message);

  int errorCount() const { return errorCount_; }

 private:
  clang::DiagnosticsEngine& diagnostics_;
  unsigned errorId_;
  unsigned warningId_;
  int errorCount_ = 0;
};

}  // namespace moonpool::annotate
