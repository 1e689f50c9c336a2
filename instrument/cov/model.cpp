// moonpool-cov: edges placed in the source (see model.h).
#include "model.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "llvm/ADT/StringExtras.h"
#include "llvm/DebugInfo/Symbolize/Symbolize.h"
#include "llvm/Object/BuildID.h"
#include "llvm/Object/ObjectFile.h"

namespace moonpool::cov {
namespace {

namespace fs = std::filesystem;

llvm::Error fail(const std::string& what) {
  return llvm::createStringError(std::errc::invalid_argument, "%s", what.c_str());
}

struct BinaryFacts {
  std::string buildId;
  bool debugInfo = false;
};

llvm::Expected<BinaryFacts> inspect(const std::string& path) {
  llvm::Expected<llvm::object::OwningBinary<llvm::object::ObjectFile>> file =
      llvm::object::ObjectFile::createObjectFile(path);
  if (!file) {
    return fail(path + ": cannot read the binary: " + llvm::toString(file.takeError()));
  }
  const llvm::object::ObjectFile& object = *file->getBinary();
  BinaryFacts facts;
  facts.buildId = llvm::toHex(llvm::object::getBuildID(&object), /*LowerCase=*/true);
  for (const llvm::object::SectionRef& section : object.sections()) {
    llvm::Expected<llvm::StringRef> name = section.getName();
    if (name && *name == ".debug_info") facts.debugInfo = true;
    if (!name) llvm::consumeError(name.takeError());
  }
  return facts;
}

struct Place {
  std::string file;  // absolute, normalized; "" without line information
  std::string function;
  std::uint32_t line = 0;
};

std::string normalize(const std::string& path) {
  return fs::path(path).lexically_normal().string();
}

bool isSystem(const std::string& file) { return file.rfind("/usr/", 0) == 0; }

// The common directory of the instrumented files outside system headers.
// The longest directory holding both `root` and `dir`.
std::string narrow(std::string root, const std::string& dir) {
  while (root.size() > 1 && (dir.rfind(root, 0) != 0 ||
                             (dir.size() > root.size() && dir[root.size()] != '/'))) {
    root = fs::path(root).parent_path().string();
  }
  return root;
}

std::string commonRoot(const std::vector<std::vector<Place>>& edges) {
  std::string root;
  for (const std::vector<Place>& frames : edges) {
    for (const Place& place : frames) {
      if (place.file.empty() || isSystem(place.file)) continue;
      const std::string dir = fs::path(place.file).parent_path().string();
      root = root.empty() ? dir : narrow(root, dir);
    }
  }
  return root.empty() ? "/" : root;
}

// A block's first instructions may carry line 0 (spills the compiler added); the call site
// never does. Bytes of a block scanned for a line when only its start is known.
constexpr std::uint64_t kBlockScanBytesMax = 32;

llvm::Expected<llvm::DIInliningInfo> framesAt(llvm::symbolize::LLVMSymbolizer& symbolizer,
                                              const std::string& binary, const Edge& edge) {
  // The call site when the edge was hit (what sancov names the edge by), else the block.
  const std::uint64_t pc = edge.callPc != 0 ? edge.callPc : edge.blockPc;
  llvm::Expected<llvm::DIInliningInfo> frames =
      symbolizer.symbolizeInlinedCode(binary, {pc, llvm::object::SectionedAddress::UndefSection});
  if (!frames || edge.callPc != 0 || frames->getNumberOfFrames() == 0 ||
      frames->getFrame(0).Line != 0) {
    return frames;
  }
  // Only a line of the same function in the same file: code inlined from elsewhere at the
  // block's start is not where the block is (sancov would name it by the call's line 0 too).
  const std::string function = frames->getFrame(0).FunctionName;
  const std::string file = frames->getFrame(0).FileName;
  for (std::uint64_t offset = 1; offset < kBlockScanBytesMax; ++offset) {
    llvm::Expected<llvm::DIInliningInfo> next = symbolizer.symbolizeInlinedCode(
        binary, {pc + offset, llvm::object::SectionedAddress::UndefSection});
    if (!next) return next;
    if (next->getNumberOfFrames() == 0 || next->getFrame(0).FunctionName != function ||
        next->getFrame(0).FileName != file) {
      break;
    }
    if (next->getFrame(0).Line != 0) return next;
  }
  return frames;  // no line in reach: the function without a line
}

// Every frame of an edge's address, innermost first; empty when unplaced.
using Frames = std::vector<Place>;

Frames toFrames(const llvm::DIInliningInfo& info) {
  Frames frames;
  for (std::uint32_t i = 0; i < info.getNumberOfFrames(); ++i) {
    const llvm::DILineInfo& frame = info.getFrame(i);
    const bool noFunction = frame.FunctionName == llvm::DILineInfo::BadString;
    const bool noFile = frame.FileName == llvm::DILineInfo::BadString || frame.FileName.empty();
    if (noFunction && noFile) continue;  // nothing to show it under
    Place place;
    place.function = noFunction ? std::string("<unknown>") : frame.FunctionName;
    if (!noFile) {
      place.file = normalize(frame.FileName);
      place.line = frame.Line;
    }
    frames.push_back(std::move(place));
  }
  return frames;
}

std::vector<Frames> symbolize(const Model& model, std::string& error) {
  llvm::symbolize::LLVMSymbolizer::Options options;
  options.Demangle = true;
  options.UseSymbolTable = true;
  llvm::symbolize::LLVMSymbolizer symbolizer(options);
  std::vector<Frames> places(model.recording.edges.size());
  for (std::size_t i = 0; i < places.size(); ++i) {
    const Edge& edge = model.recording.edges[i];
    if (edge.blockPc == 0 && edge.callPc == 0) continue;
    llvm::Expected<llvm::DIInliningInfo> frames = framesAt(symbolizer, model.binary, edge);
    if (!frames) {
      error = model.binary + ": cannot symbolize: " + llvm::toString(frames.takeError());
      return {};
    }
    places[i] = toFrames(*frames);
  }
  return places;
}

void earliest(std::uint32_t& into, std::uint32_t origin) {
  if (origin != 0 && (into == 0 || origin < into)) into = origin;
}

void addToFunction(FileCoverage& file, const Place& place, const Edge& edge) {
  FunctionCoverage& function = file.functions[place.function];
  function.name = place.function;
  function.counts.edges += 1;
  function.counts.covered += edge.covered();
  if (place.line != 0 && (function.line == 0 || place.line < function.line)) {
    function.line = place.line;
  }
}

void addToLine(FileCoverage& file, const Place& place, const Edge& edge) {
  LineCoverage& line = file.lines[place.line];
  line.counts.edges += 1;
  line.counts.covered += edge.covered();
  line.hits += edge.hits;
  if (!edge.covered()) return;
  earliest(line.seedOrigin, edge.seedOrigin);
  if (edge.seedOrigin == 0) {
    line.exploredOnlyEdges += 1;
    earliest(line.exploredOrigin, edge.exploredOrigin);
  }
}

// "a/b/c.cpp" relative to `root`, or "" when outside it.
std::string relativeTo(const std::string& file, const std::string& root) {
  if (root == "/") return file.substr(1);
  if (file.rfind(root + "/", 0) != 0) return "";
  return file.substr(root.size() + 1);
}

// Where an edge is shown: each of its frames in the user's sources (inlined code from a
// system header shows at the user's line that inlined it), once per file, function and line.
// False when no frame is in the user's sources.
bool placeEdge(Model& model, const Frames& frames, const Edge& edge) {
  std::vector<std::string> order;
  std::set<std::string> files;
  std::set<std::pair<std::string, std::string>> functions;
  std::set<std::pair<std::string, std::uint32_t>> lines;
  for (const Place& frame : frames) {
    std::string relative = "(no line information)";
    if (!frame.file.empty()) {
      relative = isSystem(frame.file) ? "" : relativeTo(frame.file, model.sourceRoot);
      if (relative.empty()) continue;
    }
    FileCoverage& file = model.files[relative];
    file.path = relative;
    file.absolute = frame.file;
    if (files.insert(relative).second) {
      order.push_back(relative);
      file.counts.edges += 1;
      file.counts.covered += edge.covered();
    }
    if (functions.insert({relative, frame.function}).second) addToFunction(file, frame, edge);
    if (frame.line != 0 && lines.insert({relative, frame.line}).second) {
      addToLine(file, frame, edge);
    }
  }
  if (order.empty()) return false;
  model.placed.emplace_back(edge.covered(), std::move(order));
  return true;
}

void place(Model& model, const std::vector<Frames>& places) {
  for (std::size_t i = 0; i < places.size(); ++i) {
    const Edge& edge = model.recording.edges[i];
    if (places[i].empty()) {
      model.edgesUnplaced += 1;
      continue;
    }
    if (!placeEdge(model, places[i], edge)) {
      model.edgesLeftOut += 1;
      continue;
    }
    model.total.edges += 1;
    model.total.covered += edge.covered();
  }
}

}  // namespace

llvm::Expected<Model> buildModel(Recording recording, const Options& options) {
  Model model;
  model.binary = options.binary.empty() ? recording.binary : options.binary;
  model.recording = std::move(recording);
  llvm::Expected<BinaryFacts> facts = inspect(model.binary);
  if (!facts) return facts.takeError();
  const std::string& recorded = model.recording.buildId;
  if (!recorded.empty() && !facts->buildId.empty() && recorded != facts->buildId) {
    return fail("build id mismatch: the coverage was recorded from build " + recorded + " of " +
                model.recording.object + ", " + model.binary + " is build " + facts->buildId +
                " (rebuilt since?); rerun with --coverage_dir, or pass the binary it came from");
  }
  if (recorded.empty() || facts->buildId.empty()) {
    model.notes.push_back("no build id to check: trusting that " + model.binary +
                          " is the binary that was recorded");
  }
  model.debugInfo = facts->debugInfo;
  if (!model.debugInfo) {
    model.notes.push_back(model.binary + " has no debug info (built without -g?): functions "
                          "from the symbol table only, no files or lines");
  }
  std::string error;
  const std::vector<Frames> places = symbolize(model, error);
  if (!error.empty()) return fail(error);
  model.sourceRoot = options.sourceRoot.empty() ? commonRoot(places)
                                                : normalize(fs::absolute(options.sourceRoot));
  if (model.sourceRoot.size() > 1 && model.sourceRoot.back() == '/') model.sourceRoot.pop_back();
  place(model, places);
  if (model.edgesUnplaced > 0) {
    model.notes.push_back(std::to_string(model.edgesUnplaced) +
                          " edges have no symbol or no address (never hit, and built without a pc "
                          "table): left out of the totals");
  }
  return model;
}

}  // namespace moonpool::cov
