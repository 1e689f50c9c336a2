// moonpool-cov: see which code the simulations reached (instrument/cov, layer: instrument
// tooling; links LLVM's DebugInfo libraries). Reads a directory written by a runner's
// --coverage_dir and the binary it came from; usage() below is the manual.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cov_data.h"
#include "llvm/Support/InitLLVM.h"
#include "model.h"
#include "reports.h"

namespace {

using namespace moonpool::cov;

constexpr const char* kUsage = R"(usage:
  moonpool-cov DIR [BINARY] [options]     report the coverage a run wrote to DIR
  moonpool-cov DIR DIR... [BINARY] [options]
                                          report the union of several runs' coverage
                                          (the shards of one run: --shard=I/N)
  moonpool-cov --diff A B [options]       what run B reached that run A did not

DIR is what a runner wrote with --coverage_dir=DIR; BINARY (a file, not a directory)
defaults to the path recorded there. Directories of another build are refused.
Output (default: the text summary):
  --html=OUT               write a static HTML report to OUT/ and print its index path
  --stats                  totals as sancov -print-coverage-stats counts them (files
                           with no covered edge skipped, as sancov does)
  --covered_functions      "file:line function" per covered function (as sancov)
  --not_covered_functions  the same for functions no edge of which was reached
Options:
  --min=PCT                summary: only files and functions below PCT percent
  --filter=TEXT            summary: only files or functions whose name contains TEXT
  --source_root=DIR        paths are shown relative to DIR; code outside it is left out
                           (default: the common directory of the instrumented sources)
  --sources=DIR            where the sources are now, if they moved (default: the root)
  --object=NAME            the instrumented object in DIR (default: the only one)
  --binary_a=P --binary_b=P  the binaries of a --diff (default: as recorded)
Exit status: 0 done, 1 bad input (named on stderr), 2 bad usage.
)";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // name -> value ("" for switches)
};

bool parse(int argc, char** argv, Args& args, std::string& error) {
  static const std::map<std::string, bool> kKnown = {
      {"html", true},          {"stats", false},          {"covered_functions", false},
      {"not_covered_functions", false}, {"min", true},    {"filter", true},
      {"source_root", true},   {"sources", true},         {"object", true},
      {"binary", true},        {"binary_a", true},        {"binary_b", true},
      {"diff", false},         {"help", false}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      args.positional.push_back(arg);
      continue;
    }
    const std::size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const auto known = kKnown.find(name);
    if (known == kKnown.end()) return error = "unknown flag --" + name, false;
    if (known->second != (eq != std::string::npos)) {
      return error = "--" + name + (known->second ? " needs =VALUE" : " takes no value"), false;
    }
    args.flags[name] = eq == std::string::npos ? "" : arg.substr(eq + 1);
  }
  return true;
}

std::string flag(const Args& args, const std::string& name) {
  const auto found = args.flags.find(name);
  return found == args.flags.end() ? "" : found->second;
}

int inputError(llvm::Error error) {
  std::fprintf(stderr, "moonpool-cov: error: %s\n", llvm::toString(std::move(error)).c_str());
  return 1;
}

llvm::Expected<Model> load(const Args& args, const std::vector<std::string>& dirs,
                           const std::string& binary) {
  llvm::Expected<Recording> recording = readCoverageDirs(dirs, flag(args, "object"));
  if (!recording) return recording.takeError();
  return buildModel(std::move(*recording),
                    Options{.binary = binary, .sourceRoot = flag(args, "source_root")});
}

int runDiff(const Args& args) {
  if (args.positional.size() != 2) {
    std::fprintf(stderr, "moonpool-cov: --diff needs two directories, A and B\n");
    return 2;
  }
  llvm::Expected<Model> before = load(args, {args.positional[0]}, flag(args, "binary_a"));
  if (!before) return inputError(before.takeError());
  llvm::Expected<Model> after = load(args, {args.positional[1]}, flag(args, "binary_b"));
  if (!after) return inputError(after.takeError());
  std::fputs(diffText(*before, *after).c_str(), stdout);
  return 0;
}

int runReport(const Args& args) {
  // DIR... [BINARY]: a last argument that is a file is the binary.
  std::vector<std::string> dirs = args.positional;
  std::string binary = flag(args, "binary");
  if (dirs.size() >= 2 && std::filesystem::is_regular_file(dirs.back())) {
    binary = dirs.back();
    dirs.pop_back();
  }
  if (dirs.empty()) {
    std::fprintf(stderr, "moonpool-cov: a coverage directory expected (see --help)\n");
    return 2;
  }
  llvm::Expected<Model> model = load(args, dirs, binary);
  if (!model) return inputError(model.takeError());
  for (const std::string& note : model->notes) {
    std::fprintf(stderr, "moonpool-cov: note: %s\n", note.c_str());
  }
  if (args.flags.count("html") != 0) {
    std::string index;
    if (llvm::Error e = writeHtml(*model, flag(args, "html"), flag(args, "sources"), index)) {
      return inputError(std::move(e));
    }
    std::printf("%s\n", index.c_str());
    return 0;
  }
  if (args.flags.count("stats") != 0) return std::fputs(statsText(*model).c_str(), stdout), 0;
  if (args.flags.count("covered_functions") != 0) {
    return std::fputs(functionList(*model, true).c_str(), stdout), 0;
  }
  if (args.flags.count("not_covered_functions") != 0) {
    return std::fputs(functionList(*model, false).c_str(), stdout), 0;
  }
  TextOptions text{.filter = flag(args, "filter")};
  if (const std::string min = flag(args, "min"); !min.empty()) {
    char* end = nullptr;
    text.minPercent = std::strtod(min.c_str(), &end);
    if (end == min.c_str() || *end != '\0' || text.minPercent < 0 || text.minPercent > 100) {
      std::fprintf(stderr, "moonpool-cov: --min must be a percentage in [0, 100]\n");
      return 2;
    }
  }
  std::fputs(textSummary(*model, text).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  llvm::InitLLVM init(argc, argv);
  Args args;
  std::string error;
  if (!parse(argc, argv, args, error)) {
    std::fprintf(stderr, "moonpool-cov: %s (see --help)\n", error.c_str());
    return 2;
  }
  if (args.flags.count("help") != 0) return std::fputs(kUsage, stdout), 0;
  return args.flags.count("diff") != 0 ? runDiff(args) : runReport(args);
}
