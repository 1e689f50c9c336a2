// One generator run over many headers (annotate/ layer): per translation unit it maps the
// AST to the IR, runs every rule, and emits the schema and the C++ glue into memory.
// Nothing is written here: main writes the outputs only when every header succeeded, so a
// failing run never leaves partial or stale-mixed output behind.
#pragma once

#include <clang/Tooling/Tooling.h>

#include <map>
#include <memory>
#include <string>

namespace moonpool::annotate {

// Output file name (e.g. "kv_store.capnp") -> contents, ordered by name.
using GeneratedFiles = std::map<std::string, std::string>;

// A factory for ClangTool::run. `outputs` outlives the factory and every action it makes.
std::unique_ptr<clang::tooling::FrontendActionFactory> makeGeneratorFactory(
    GeneratedFiles& outputs);

}  // namespace moonpool::annotate
