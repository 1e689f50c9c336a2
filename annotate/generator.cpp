// The per-header pipeline: AST mapper -> rules -> evolution stage -> emitters (see
// generator.h).
#include "generator.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendAction.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>

#include <variant>

#include "ast_mapper.h"
#include "capnp_emitter.h"
#include "cpp_emitter.h"
#include "reporter.h"
#include "rules/rule.h"

namespace moonpool::annotate {
namespace {

// Where the header's lock file is: next to the header unless --lock-dir says otherwise.
std::string lockPathFor(const clang::SourceManager& sources, const GeneratorOptions& options,
                        const std::string& lockName) {
  llvm::SmallString<256> path(options.lockDir);
  if (path.empty()) {
    if (clang::OptionalFileEntryRef main = sources.getFileEntryRefForID(sources.getMainFileID())) {
      path = main->getName();
      llvm::sys::fs::make_absolute(path);
      llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
      llvm::sys::path::remove_filename(path);
    }
  }
  llvm::sys::path::append(path, lockName);
  return path.str().str();
}

// Reads and parses the lock file through clang's SourceManager, so that problems in it (and
// the evolution stage's notes about it) print as `<lock>:line:col: error: ...` with the line.
// Returns nullopt after reporting a lock file that cannot be read or parsed.
std::optional<LockInput> loadLock(clang::SourceManager& sources, const Schema& schema,
                                  const GeneratorOptions& options, Reporter& reporter) {
  LockInput input;
  input.mode = options.lockMode;
  input.lockName = lockFileName(schema);
  input.lockPath = lockPathFor(sources, options, input.lockName);
  input.headerStart = sources.getLocForStartOfFile(sources.getMainFileID());
  if (input.mode == LockMode::kOff || !llvm::sys::fs::exists(input.lockPath)) return input;
  clang::OptionalFileEntryRef file = sources.getFileManager().getOptionalFileRef(input.lockPath);
  std::optional<llvm::MemoryBufferRef> buffer;
  clang::FileID id;
  if (file) {
    id = sources.createFileID(*file, clang::SourceLocation(), clang::SrcMgr::C_User);
    buffer = sources.getBufferOrNone(id);
  }
  if (!buffer.has_value()) {
    reporter.error(input.headerStart, "cannot read the lock file '" + input.lockPath +
                                          "'; fix its permissions, or delete it to have it "
                                          "written again");
    return std::nullopt;
  }
  input.lockText = buffer->getBuffer().str();
  input.lockLocation = [&sources, id](int line, int column) {
    return sources.translateLineCol(id, static_cast<unsigned>(line),
                                    static_cast<unsigned>(column));
  };
  std::variant<LockFile, LockSyntaxError> parsed = parseLockFile(input.lockText);
  if (const auto* error = std::get_if<LockSyntaxError>(&parsed)) {
    reporter.error(input.lockLocation(error->line, error->column),
                   "malformed lock file: " + error->message);
    return std::nullopt;
  }
  input.lock = std::move(std::get<LockFile>(parsed));
  return input;
}

class GeneratorConsumer final : public clang::ASTConsumer {
 public:
  GeneratorConsumer(const GeneratorOptions& options, GeneratorOutputs& outputs)
      : options_(options), outputs_(outputs) {}

  // implements clang::ASTConsumer
  void HandleTranslationUnit(clang::ASTContext& context) override {
    clang::DiagnosticsEngine& diagnostics = context.getDiagnostics();
    if (diagnostics.hasErrorOccurred()) return;  // the header itself does not compile
    Schema schema = mapTranslationUnit(context);
    Reporter reporter(diagnostics);
    if (runAllRules(schema, reporter) > 0) return;
    clang::SourceManager& sources = context.getSourceManager();
    std::string fileName = capnpFileName(schema);
    if (outputs_.files.count(fileName) != 0) {
      reporter.error(sources.getLocForStartOfFile(sources.getMainFileID()),
                     "another input header also generates '" + fileName +
                         "'; rename one of the headers");
      return;
    }
    std::optional<LockInput> lock = loadLock(sources, schema, options_, reporter);
    if (!lock.has_value()) return;
    EvolutionOutcome evolution = evolveSchema(schema, *lock, reporter);
    if (!evolution.ok) return;
    outputs_.files.emplace(fileName, emitCapnpSchema(schema));
    outputs_.files.emplace(cppHeaderFileName(schema), emitCppHeader(schema));
    outputs_.files.emplace(cppSourceFileName(schema), emitCppSource(schema));
    if (evolution.lockText.has_value()) {
      outputs_.lockFiles.emplace(lock->lockPath, std::move(*evolution.lockText));
    }
  }

 private:
  const GeneratorOptions& options_;
  GeneratorOutputs& outputs_;
};

class GeneratorAction final : public clang::ASTFrontendAction {
 public:
  GeneratorAction(const GeneratorOptions& options, GeneratorOutputs& outputs)
      : options_(options), outputs_(outputs) {}

 protected:
  // implements clang::ASTFrontendAction
  std::unique_ptr<clang::ASTConsumer> CreateASTConsumer(clang::CompilerInstance&,
                                                        llvm::StringRef) override {
    return std::make_unique<GeneratorConsumer>(options_, outputs_);
  }

 private:
  const GeneratorOptions& options_;
  GeneratorOutputs& outputs_;
};

class GeneratorFactory final : public clang::tooling::FrontendActionFactory {
 public:
  GeneratorFactory(const GeneratorOptions& options, GeneratorOutputs& outputs)
      : options_(options), outputs_(outputs) {}

  // implements clang::tooling::FrontendActionFactory
  std::unique_ptr<clang::FrontendAction> create() override {
    return std::make_unique<GeneratorAction>(options_, outputs_);
  }

 private:
  GeneratorOptions options_;
  GeneratorOutputs& outputs_;
};

}  // namespace

std::unique_ptr<clang::tooling::FrontendActionFactory> makeGeneratorFactory(
    const GeneratorOptions& options, GeneratorOutputs& outputs) {
  return std::make_unique<GeneratorFactory>(options, outputs);
}

}  // namespace moonpool::annotate
