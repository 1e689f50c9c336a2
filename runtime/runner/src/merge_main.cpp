// moonpool-merge: the report of a sharded run from its shards' JSON reports (runtime/
// runner layer; the merge itself is runner/report_merge.h).
//
//   moonpool-merge shard-0.json shard-1.json ... [-o merged.json] [--junit=merged.xml]
//
// Prints the merged report as text on stdout (on stderr with -o -), writes it as JSON with
// -o PATH ('-': stdout) and as JUnit XML with --junit=PATH. Exit codes are the runner's
// (REPORT_FORMATS.md): the merged run's 0, 1 (a bug), 3 (a coverage gap) or 130; 2 for bad
// arguments, an unreadable file, a file that is not a run report, or shards that do not make
// one run (overlapping, missing, of different runs); 4 for shards of different builds.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "moonpool/runner/report.h"
#include "moonpool/runner/report_merge.h"

namespace moonpool {
namespace {

constexpr const char* kUsage =
    "usage: moonpool-merge SHARD.json... [-o MERGED.json | -o -] [--junit=MERGED.xml]\n"
    "Merges the JSON reports of a run split with --shard=I/N (every shard once) into the\n"
    "report of the whole run: text on stdout, JSON with -o, JUnit XML with --junit.\n"
    "Exit status: 0 passed, 1 a bug, 3 a coverage gap, 130 a shard was interrupted;\n"
    "2 bad arguments or reports, 4 reports of different builds.\n";

struct Arguments {
  std::vector<std::string> inputs;
  std::string json;
  std::string junit;
};

// Fills `out`; an error message otherwise.
std::string parseArguments(int argc, char** argv, Arguments& out) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-o" || arg == "--output") {
      if (i + 1 >= argc) return arg + " needs a path";
      out.json = argv[++i];
    } else if (arg.rfind("--output=", 0) == 0) {
      out.json = arg.substr(9);
    } else if (arg.rfind("--junit=", 0) == 0) {
      out.junit = arg.substr(8);
    } else if (arg.size() > 1 && arg[0] == '-') {
      return "unknown option " + arg;
    } else {
      out.inputs.push_back(arg);
    }
  }
  if (out.inputs.empty()) return "no shard report given";
  return "";
}

bool readFile(const std::string& path, std::string& text, std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "cannot read it: " + std::string(std::strerror(errno));
    return false;
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  text = buffer.str();
  return true;
}

bool writeFile(const std::string& path, const std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  bool ok = file != nullptr && std::fputs(text.c_str(), file) >= 0;
  if (file != nullptr && std::fclose(file) != 0) ok = false;
  if (!ok) std::fprintf(stderr, "moonpool-merge: cannot write '%s': %s\n", path.c_str(),
                        std::strerror(errno));
  return ok;
}

int fail(const std::string& message, int code = RunReport::kExitUsage) {
  std::fprintf(stderr, "moonpool-merge: %s\n", message.c_str());
  return code;
}

int run(int argc, char** argv) {
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Arguments args;
  if (const std::string error = parseArguments(argc, argv, args); !error.empty()) {
    return fail(error + " (see --help)");
  }
  std::vector<RunReport> shards;
  for (const std::string& path : args.inputs) {
    std::string text;
    std::string error;
    if (!readFile(path, text, error)) return fail(path + ": " + error);
    absl::StatusOr<RunReport> report = parseReportJson(text);
    if (!report.ok()) return fail(path + ": " + std::string(report.status().message()));
    if (!report->shard) {
      return fail(path + ": not a shard report (its run had no --shard=I/N)" +
                  (report->mergedShards > 0 ? "; it is a merged report already" : ""));
    }
    shards.push_back(*std::move(report));
  }
  absl::StatusOr<RunReport> merged = mergeShardReports(std::move(shards));
  if (!merged.ok()) {
    return fail(std::string(merged.status().message()),
                absl::IsFailedPrecondition(merged.status()) ? RunReport::kExitBuildMismatch
                                                            : RunReport::kExitUsage);
  }
  std::fputs(renderReportText(*merged).c_str(), args.json == "-" ? stderr : stdout);
  bool ok = true;
  if (!args.junit.empty()) ok = writeFile(args.junit, renderReportJunit(*merged));
  if (args.json == "-") {
    std::fputs(renderReportJson(*merged).c_str(), stdout);
  } else if (!args.json.empty()) {
    ok = writeFile(args.json, renderReportJson(*merged)) && ok;
  }
  return ok ? merged->exitCode() : RunReport::kExitUsage;
}

}  // namespace
}  // namespace moonpool

int main(int argc, char** argv) { return moonpool::run(argc, argv); }
