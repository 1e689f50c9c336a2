// The per-header pipeline: AST mapper -> rules -> emitter (see generator.h).
#include "generator.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendAction.h>

#include "ast_mapper.h"
#include "capnp_emitter.h"
#include "cpp_emitter.h"
#include "reporter.h"
#include "rules/rule.h"

namespace moonpool::annotate {
namespace {

class GeneratorConsumer final : public clang::ASTConsumer {
 public:
  explicit GeneratorConsumer(GeneratedFiles& outputs) : outputs_(outputs) {}

  // implements clang::ASTConsumer
  void HandleTranslationUnit(clang::ASTContext& context) override {
    clang::DiagnosticsEngine& diagnostics = context.getDiagnostics();
    if (diagnostics.hasErrorOccurred()) return;  // the header itself does not compile
    Schema schema = mapTranslationUnit(context);
    Reporter reporter(diagnostics);
    if (runAllRules(schema, reporter) > 0) return;
    std::string fileName = capnpFileName(schema);
    if (outputs_.count(fileName) != 0) {
      const clang::SourceManager& sources = context.getSourceManager();
      reporter.error(sources.getLocForStartOfFile(sources.getMainFileID()),
                     "another input header also generates '" + fileName +
                         "'; rename one of the headers");
      return;
    }
    outputs_.emplace(fileName, emitCapnpSchema(schema));
    outputs_.emplace(cppHeaderFileName(schema), emitCppHeader(schema));
    outputs_.emplace(cppSourceFileName(schema), emitCppSource(schema));
  }

 private:
  GeneratedFiles& outputs_;
};

class GeneratorAction final : public clang::ASTFrontendAction {
 public:
  explicit GeneratorAction(GeneratedFiles& outputs) : outputs_(outputs) {}

 protected:
  // implements clang::ASTFrontendAction
  std::unique_ptr<clang::ASTConsumer> CreateASTConsumer(clang::CompilerInstance&,
                                                        llvm::StringRef) override {
    return std::make_unique<GeneratorConsumer>(outputs_);
  }

 private:
  GeneratedFiles& outputs_;
};

class GeneratorFactory final : public clang::tooling::FrontendActionFactory {
 public:
  explicit GeneratorFactory(GeneratedFiles& outputs) : outputs_(outputs) {}

  // implements clang::tooling::FrontendActionFactory
  std::unique_ptr<clang::FrontendAction> create() override {
    return std::make_unique<GeneratorAction>(outputs_);
  }

 private:
  GeneratedFiles& outputs_;
};

}  // namespace

std::unique_ptr<clang::tooling::FrontendActionFactory> makeGeneratorFactory(
    GeneratedFiles& outputs) {
  return std::make_unique<GeneratorFactory>(outputs);
}

}  // namespace moonpool::annotate
