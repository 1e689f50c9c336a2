// Compiler-style error reporting (see reporter.h).
#include "reporter.h"

namespace moonpool::annotate {

Reporter::Reporter(clang::DiagnosticsEngine& diagnostics)
    : diagnostics_(diagnostics),
      errorId_(diagnostics.getCustomDiagID(clang::DiagnosticsEngine::Error, "%0")),
      warningId_(diagnostics.getCustomDiagID(clang::DiagnosticsEngine::Warning, "%0")) {}

void Reporter::error(clang::SourceLocation loc, const std::string& message) {
  ++errorCount_;
  diagnostics_.Report(loc, errorId_) << message;
}

void Reporter::warning(clang::SourceLocation loc, const std::string& message) {
  diagnostics_.Report(loc, warningId_) << message;
}

}  // namespace moonpool::annotate
