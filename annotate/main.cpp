// moonpool-annotate: generates Cap'n Proto schemas from [[moonpool::...]]-annotated C++
// headers (annotate/ layer). A thin main: flags, compiler arguments, one ClangTool run
// (generator.h), then the outputs are written only if every header succeeded.
//
//   moonpool-annotate --output-dir <dir> [--lock=auto|check|update|off] [--lock-dir <dir>]
//                     <header>... [-p <build dir>] [-- <compiler args>]
//
// Lock files (<stem>.moonpool.lock, next to each header by default) are read and written
// as evolution.h describes; they are written with the outputs, only when everything succeeded.
//
// Exit codes: 0 success; 1 bad flags, an input that is not C++, an error from the compiler
// driver or in a header, or an output write failure. Nothing is written unless it is 0.
#include <clang/Basic/DiagnosticOptions.h>
#include <clang/Frontend/TextDiagnosticPrinter.h>
#include <clang/Tooling/ArgumentsAdjusters.h>
#include <clang/Tooling/CommonOptionsParser.h>
#include <clang/Tooling/Tooling.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "generator.h"

namespace {

using clang::tooling::CommandLineArguments;

bool isHeader(llvm::StringRef file) {
  llvm::StringRef ext = llvm::sys::path::extension(file);
  return ext == ".h" || ext == ".hh" || ext == ".hpp" || ext == ".hxx";
}

bool isCppFile(llvm::StringRef file) {
  llvm::StringRef ext = llvm::sys::path::extension(file);
  return isHeader(file) || ext == ".cpp" || ext == ".cc" || ext == ".cxx" || ext == ".c++";
}

// Inputs must be C++: a C file (.c) would parse as C, and anything else is not ours to read.
bool inputsAreCpp(const std::vector<std::string>& files) {
  for (const std::string& file : files) {
    if (isCppFile(file)) continue;
    llvm::errs() << "moonpool-annotate: error: '" << file
                 << "' is not a C++ header or source (.h, .hh, .hpp, .hxx, .cpp, .cc, .cxx, "
                    ".c++); pass the annotated C++ header\n";
    return false;
  }
  return true;
}

bool hasArgWithPrefix(const CommandLineArguments& args, llvm::StringRef prefix) {
  for (const std::string& arg : args) {
    if (llvm::StringRef(arg).starts_with(prefix)) return true;
  }
  return false;
}

// Compile headers as C++20 headers (toolchain.md P4) unless the command says otherwise,
// find clang's builtin headers, and tolerate warning flags of other compilers.
CommandLineArguments adjustArguments(const CommandLineArguments& args, llvm::StringRef file) {
  CommandLineArguments adjusted = args;
  auto afterCompiler = adjusted.begin() + (adjusted.empty() ? 0 : 1);
  if (isHeader(file) && !hasArgWithPrefix(adjusted, "-x")) {
    afterCompiler = adjusted.insert(afterCompiler, "-xc++-header") + 1;
  }
  if (!hasArgWithPrefix(adjusted, "-std=")) adjusted.insert(afterCompiler, "-std=c++20");
  const char* fromEnv = std::getenv("MOONPOOL_CLANG_RESOURCE_DIR");
  std::string resourceDir = fromEnv != nullptr ? fromEnv : MP_CLANG_RESOURCE_DIR;
  adjusted.insert(adjusted.begin() + (adjusted.empty() ? 0 : 1), "-resource-dir=" + resourceDir);
  adjusted.push_back("-Wno-unknown-warning-option");
  return adjusted;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Writes the file unless it already holds the same bytes (keeps build-system timestamps
// stable); a temporary plus rename means readers never see a half-written schema.
bool writeFileIfChanged(const std::string& path, const std::string& contents) {
  if (llvm::sys::fs::exists(path) && readFile(path) == contents) return true;
  std::string temp = path + ".tmp";
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out || llvm::sys::fs::rename(temp, path)) {
    llvm::errs() << "moonpool-annotate: error: cannot write '" << path << "'\n";
    return false;
  }
  return true;
}

bool writeOutputs(const std::string& dir, const moonpool::annotate::GeneratorOutputs& outputs) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    llvm::errs() << "moonpool-annotate: error: cannot create output directory '" << dir
                 << "': " << ec.message() << "\n";
    return false;
  }
  for (const auto& [name, contents] : outputs.files) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    if (!writeFileIfChanged(path.str().str(), contents)) return false;
  }
  for (const auto& [path, contents] : outputs.lockFiles) {
    if (!writeFileIfChanged(path, contents)) return false;
  }
  return true;
}

// CommonOptionsParser falls back to "running without flags" when `-p <dir>` holds no
// compile_commands.json; a wrong -p is a bad flag here, so reject it before parsing.
bool buildPathIsUsable(int argc, const char** argv) {
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg(argv[i]);
    if (arg == "--") break;
    std::string dir;
    if ((arg == "-p" || arg == "--p") && i + 1 < argc) {
      dir = argv[i + 1];
    } else if (arg.consume_front("-p=") || arg.consume_front("--p=")) {
      dir = arg.str();
    } else {
      continue;
    }
    llvm::SmallString<256> database(dir);
    llvm::sys::path::append(database, "compile_commands.json");
    if (!llvm::sys::fs::exists(database)) {
      llvm::errs() << "moonpool-annotate: error: no compile_commands.json in '" << dir
                   << "' (given with -p); configure that build with "
                      "CMAKE_EXPORT_COMPILE_COMMANDS=ON or pass compiler flags after '--'\n";
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, const char** argv) {
  // Local, not global, options: they register with llvm::cl for the lifetime of main only.
  llvm::cl::OptionCategory category("moonpool-annotate options");
  llvm::cl::opt<std::string> outputDir(
      "output-dir", llvm::cl::desc("Directory for the generated .capnp files (created if missing)"),
      llvm::cl::value_desc("dir"), llvm::cl::Required, llvm::cl::cat(category));
  llvm::cl::opt<moonpool::annotate::LockMode> lockMode(
      "lock", llvm::cl::desc("How to use the ordinal lock file of each header:"),
      llvm::cl::values(
          clEnumValN(moonpool::annotate::LockMode::kAuto, "auto",
                     "check it; create it, or record additions (default)"),
          clEnumValN(moonpool::annotate::LockMode::kCheck, "check",
                     "check it; it must exist and be up to date (CI); never written"),
          clEnumValN(moonpool::annotate::LockMode::kUpdate, "update",
                     "accept breaking changes with a warning, retire removed members"),
          clEnumValN(moonpool::annotate::LockMode::kOff, "off", "neither read nor write it")),
      llvm::cl::init(moonpool::annotate::LockMode::kAuto), llvm::cl::cat(category));
  llvm::cl::opt<std::string> lockDir(
      "lock-dir",
      llvm::cl::desc("Directory of the lock files (default: next to each header)"),
      llvm::cl::value_desc("dir"), llvm::cl::cat(category));
  if (!buildPathIsUsable(argc, argv)) return 1;
  auto parser = clang::tooling::CommonOptionsParser::create(
      argc, argv, category, llvm::cl::OneOrMore,
      "Generates Cap'n Proto schemas from [[moonpool::service]], [[moonpool::actor]] and\n"
      "[[moonpool::message]] declarations. Compiler arguments follow '--'.\n");
  if (!parser) {
    llvm::errs() << "moonpool-annotate: error: " << llvm::toString(parser.takeError())
                 << "run 'moonpool-annotate --help' for usage\n";
    return 1;
  }
  if (!inputsAreCpp(parser->getSourcePathList())) return 1;
  clang::tooling::ClangTool tool(parser->getCompilations(), parser->getSourcePathList());
  tool.appendArgumentsAdjuster(adjustArguments);
  // Every diagnostic goes through one printer that counts errors, the compiler driver's
  // included ("unknown argument"): ClangTool::run does not fail on those by itself.
  llvm::IntrusiveRefCntPtr<clang::DiagnosticOptions> diagnosticOptions(
      new clang::DiagnosticOptions());
  clang::TextDiagnosticPrinter printer(llvm::errs(), diagnosticOptions.get());
  tool.setDiagnosticConsumer(&printer);
  moonpool::annotate::GeneratorOptions options;
  options.lockMode = lockMode;
  if (!lockDir.empty()) {
    llvm::SmallString<256> dir(lockDir.getValue());
    llvm::sys::fs::make_absolute(dir);
    if (!llvm::sys::fs::is_directory(dir)) {
      llvm::errs() << "moonpool-annotate: error: --lock-dir '" << lockDir
                   << "' is not a directory; create it first\n";
      return 1;
    }
    options.lockDir = dir.str().str();
  }
  moonpool::annotate::GeneratorOutputs outputs;
  const int failed = tool.run(moonpool::annotate::makeGeneratorFactory(options, outputs).get());
  if (failed != 0 || printer.getNumErrors() > 0) return 1;  // nothing written
  return writeOutputs(outputDir, outputs) ? 0 : 1;
}
