// moonpool-cov: the reports (instrument/cov, layer: instrument tooling).
#pragma once

#include <string>

#include "llvm/Support/Error.h"
#include "model.h"

namespace moonpool::cov {

struct TextOptions {
  // Only files and functions below this percentage (100: everything not fully covered
  // and the fully covered ones too: <= 100 shows all).
  double minPercent = 101.0;
  // Only files whose path, or functions whose name, contains this text ("" : all).
  std::string filter;
};

// Per file and per function, edges covered/total and percent, worst first.
std::string textSummary(const Model& model, const TextOptions& options);

// Totals as LLVM's `sancov -print-coverage-stats` names and counts them: over the files with
// at least one covered edge (sancov skips "dead" files; the summary and HTML count all).
// Equal to sancov's without inlining (-O0); with inlining sancov files an edge under its
// innermost frame only and drops system headers' frames, we under every user frame.
std::string statsText(const Model& model);

// "<file>:<line> <function>" per covered (or never covered) function, like sancov's
// -covered-functions / -not-covered-functions (absolute file paths, sorted; dead files
// skipped as sancov skips them).
std::string functionList(const Model& model, bool covered);

// What `after` reached that `before` did not, by source line: each line where B covered more
// edges than A, with the command that reached them (and the lines A reached and B did not,
// counted). Lines, not edge ids, so it works across builds (before and after a code change)
// as well as within one (plain seeds vs exploration).
std::string diffText(const Model& before, const Model& after);

// Writes index.html and one page per file under `outDir` (created). `sourcesDir` holds
// the sources under their relative paths ("" : the source root). A source file that cannot
// be read gets a page listing its lines without text, and a note. Sets `indexPath`.
llvm::Error writeHtml(const Model& model, const std::string& outDir,
                      const std::string& sourcesDir, std::string& indexPath);

}  // namespace moonpool::cov
