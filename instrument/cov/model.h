// moonpool-cov: edges placed in the source (instrument/cov, layer: instrument tooling).
//
// Each edge is symbolized with LLVM's DebugInfo library (llvm::symbolize::LLVMSymbolizer,
// inlined frames included) at its call site when it was hit (sancov's coverage point), else
// at its block address from the pc table (never-hit edges of an object built without a pc
// table cannot be placed: counted as unplaced).
// An edge belongs to its innermost frame, the code that actually ran (as LLVM's sancov counts
// it). Edges in system headers (/usr/...) or outside the source root are left out of every
// total: that is not the user's code. An object without DWARF is a stated degradation:
// functions from the symbol table, no files or lines.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cov_data.h"
#include "llvm/Support/Error.h"

namespace moonpool::cov {

struct Counts {
  std::uint64_t edges = 0;
  std::uint64_t covered = 0;
  double percent() const { return edges == 0 ? 100.0 : 100.0 * covered / edges; }
};

struct LineCoverage {
  Counts counts;
  std::uint64_t hits = 0;
  std::uint32_t seedOrigin = 0;          // earliest plain-seed origin of its edges, 0 none
  std::uint64_t exploredOnlyEdges = 0;   // covered edges no plain seed reached
  std::uint32_t exploredOrigin = 0;      // earliest origin of those, 0 none
};

struct FunctionCoverage {
  std::string name;
  std::uint32_t line = 0;  // first line with an edge (0: no line information)
  Counts counts;
};

struct FileCoverage {
  std::string path;      // relative to the source root
  std::string absolute;  // as the debug info names it
  Counts counts;
  std::map<std::uint32_t, LineCoverage> lines;
  std::map<std::string, FunctionCoverage> functions;
};

struct Options {
  std::string binary;      // "" : the recorded path
  std::string sourceRoot;  // "" : the common directory of the instrumented files
};

struct Model {
  Recording recording;
  std::string binary;
  std::string sourceRoot;
  Counts total;
  std::map<std::string, FileCoverage> files;  // by relative path
  // Per placed edge: covered or not, and the files it shows in (an edge inlined into several
  // files counts in each file, once in the totals).
  std::vector<std::pair<bool, std::vector<std::string>>> placed;
  std::uint64_t edgesLeftOut = 0;   // system headers, outside the root
  std::uint64_t edgesUnplaced = 0;  // no address (no pc table and never hit)
  bool debugInfo = true;
  std::vector<std::string> notes;   // degradations, for the reports and stderr
};

// Checks the binary (readable, same build id as the recording) and places every edge.
llvm::Expected<Model> buildModel(Recording recording, const Options& options);

}  // namespace moonpool::cov
