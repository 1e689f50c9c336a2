// One generator run over many headers (annotate/ layer): per translation unit it maps the
// AST to the IR, runs every rule, runs the evolution stage against the header's lock file
// (evolution.h), and emits the schema and the C++ glue into memory.
// Nothing is written here: main writes the outputs only when every header succeeded, so a
// failing run never leaves partial or stale-mixed output behind.
#pragma once

#include <clang/Tooling/Tooling.h>

#include <map>
#include <memory>
#include <string>

#include "evolution.h"

namespace moonpool::annotate {

// Output file name (e.g. "kv_store.capnp") -> contents, ordered by name.
using GeneratedFiles = std::map<std::string, std::string>;

struct GeneratorOutputs {
  GeneratedFiles files;                          // for the output directory
  std::map<std::string, std::string> lockFiles;  // lock file path -> contents
};

struct GeneratorOptions {
  LockMode lockMode = LockMode::kAuto;
  // Where lock files are read and written; empty: next to each header (the normal place:
  // the lock is a source file, committed with the header).
  std::string lockDir;
};

// A factory for ClangTool::run. `outputs` outlives the factory and every action it makes.
std::unique_ptr<clang::tooling::FrontendActionFactory> makeGeneratorFactory(
    const GeneratorOptions& options, GeneratorOutputs& outputs);

}  // namespace moonpool::annotate
