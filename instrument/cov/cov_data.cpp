// moonpool-cov: reading a coverage directory (see cov_data.h).
#include "cov_data.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace moonpool::cov {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kSancovMagic64 = 0xC0BFFFFFFFFFFF64ull;
// One recording's edges and origins at most (the runtime's kGuardsMax, the recorder's
// kOriginsMax): a larger count in a header is corruption, not a reason to allocate.
constexpr std::uint64_t kEdgesMax = std::uint64_t{1} << 22;
constexpr std::uint64_t kOriginsMax = std::uint64_t{1} << 16;

llvm::Error fail(const std::string& file, const std::string& what) {
  return llvm::createStringError(std::errc::invalid_argument, "%s: %s", file.c_str(),
                                 what.c_str());
}

struct Reader {
  std::string file;
  std::istringstream in;
  int lineNumber = 0;

  bool next(std::string& line) {
    if (!std::getline(in, line)) return false;
    ++lineNumber;
    return true;
  }
  llvm::Error error(const std::string& what) const {
    return fail(file, "line " + std::to_string(lineNumber) + ": " + what);
  }
  // "<key> <rest>": the rest, or an error when the line is missing or has another key.
  llvm::Expected<std::string> field(const std::string& key) {
    std::string line;
    if (!next(line)) return fail(file, "truncated: '" + key + "' expected after line " +
                                           std::to_string(lineNumber));
    if (line == key) return std::string();
    if (line.rfind(key + " ", 0) != 0) return error("'" + key + "' expected, got '" + line + "'");
    return line.substr(key.size() + 1);
  }
  llvm::Expected<std::uint64_t> number(const std::string& key, std::uint64_t max) {
    llvm::Expected<std::string> text = field(key);
    if (!text) return text.takeError();
    std::uint64_t value = 0;
    if (text->empty() || llvm::StringRef(*text).getAsInteger(10, value) || value > max) {
      return error("bad " + key + " '" + *text + "'");
    }
    return value;
  }
};

bool parseHex(const std::string& token, std::uint64_t& out) {
  if (token == "-") return out = 0, true;
  return !llvm::StringRef(token).getAsInteger(16, out);
}

llvm::Error parseEdge(Reader& r, const std::string& line, Edge& edge) {
  std::istringstream fields(line);
  std::string block, call;
  std::uint64_t seed = 0, explored = 0;
  if (!(fields >> block >> call >> edge.hits >> edge.timelines >> seed >> explored) ||
      !parseHex(block, edge.blockPc) || !parseHex(call, edge.callPc)) {
    return r.error("malformed edge '" + line + "'");
  }
  if (seed > kOriginsMax || explored > kOriginsMax) return r.error("origin out of range");
  edge.seedOrigin = static_cast<std::uint32_t>(seed);
  edge.exploredOrigin = static_cast<std::uint32_t>(explored);
  return llvm::Error::success();
}

llvm::Error parseHeader(Reader& r, Recording& out) {
  std::string line;
  if (!r.next(line) || line != "moonpool-cov 1") {
    return fail(r.file, "not a moonpool-cov file (version 1 expected)");
  }
  for (auto [key, into] : {std::pair{"binary", &out.binary}, std::pair{"build-id", &out.buildId},
                           std::pair{"mode", &out.mode}, std::pair{"command", &out.command}}) {
    llvm::Expected<std::string> value = r.field(key);
    if (!value) return value.takeError();
    *into = *value;
  }
  if (out.buildId == "-") out.buildId.clear();
  llvm::Expected<std::string> timelines = r.field("timelines");
  if (!timelines) return timelines.takeError();
  std::istringstream(*timelines) >> out.timelines >> out.forkedTimelines;
  llvm::Expected<std::uint64_t> dropped = r.number("origins-dropped", kOriginsMax * 64);
  if (!dropped) return dropped.takeError();
  out.originsDropped = *dropped;
  return llvm::Error::success();
}

// One .moonpool-cov file and the count of pcs its .sancov must hold.
llvm::Error parseCompanion(Reader& r, Recording& out, std::uint64_t& sancovCount) {
  if (llvm::Error e = parseHeader(r, out)) return e;
  llvm::Expected<std::uint64_t> origins = r.number("origins", kOriginsMax);
  if (!origins) return origins.takeError();
  std::string line;
  for (std::uint64_t i = 0; i < *origins; ++i) {
    if (!r.next(line)) return fail(r.file, "truncated in the origins");
    out.origins.push_back(line);
  }
  llvm::Expected<std::uint64_t> edges = r.number("edges", kEdgesMax);
  if (!edges) return edges.takeError();
  out.edges.resize(*edges);
  for (Edge& edge : out.edges) {
    if (!r.next(line)) return fail(r.file, "truncated in the edges");
    if (llvm::Error e = parseEdge(r, line, edge)) return e;
    if (edge.seedOrigin > *origins || edge.exploredOrigin > *origins) {
      return r.error("edge names an origin past 'origins'");
    }
  }
  llvm::Expected<std::uint64_t> sancov = r.number("sancov", kEdgesMax);
  if (!sancov) return sancov.takeError();
  sancovCount = *sancov;
  if (!r.next(line) || line != "end") return fail(r.file, "truncated: no 'end' line");
  return llvm::Error::success();
}

// Checks the .sancov beside a companion: present, LLVM's 64-bit magic, whole program
// counters, as many as the companion says, and each one a covered edge's call site.
llvm::Error checkSancov(const std::string& path, const Recording& one, std::uint64_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path, "missing (every .moonpool-cov has its .sancov beside it)");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t magic = 0;
  if (bytes.size() < 8) return fail(path, "truncated: shorter than its 8-byte header");
  std::memcpy(&magic, bytes.data(), 8);
  if (magic != kSancovMagic64) return fail(path, "not a 64-bit .sancov file (bad magic)");
  if ((bytes.size() - 8) % 8 != 0 || (bytes.size() - 8) / 8 != count) {
    return fail(path, "truncated: " + std::to_string((bytes.size() - 8) / 8) +
                          " program counters, the .moonpool-cov says " + std::to_string(count));
  }
  std::set<std::uint64_t> calls;
  for (const Edge& edge : one.edges) {
    if (edge.covered() && edge.callPc != 0) calls.insert(edge.callPc);
  }
  for (std::size_t at = 8; at < bytes.size(); at += 8) {
    std::uint64_t pc = 0;
    std::memcpy(&pc, bytes.data() + at, 8);
    if (calls.count(pc) == 0) return fail(path, "holds a pc its .moonpool-cov does not cover");
  }
  return llvm::Error::success();
}

llvm::Expected<Recording> readOne(const fs::path& companion) {
  Reader r;
  r.file = companion.string();
  std::ifstream in(companion);
  if (!in) return fail(r.file, "cannot read");
  std::stringstream text;
  text << in.rdbuf();
  r.in = std::istringstream(text.str());
  Recording one;
  std::uint64_t sancovCount = 0;
  if (llvm::Error e = parseCompanion(r, one, sancovCount)) return std::move(e);
  std::string sancov = r.file.substr(0, r.file.size() - std::strlen(".moonpool-cov")) + ".sancov";
  if (llvm::Error e = checkSancov(sancov, one, sancovCount)) return std::move(e);
  one.runs = 1;
  return one;
}

llvm::Error merge(Recording& into, Recording one, const std::string& file) {
  if (into.runs == 0) return into = std::move(one), llvm::Error::success();
  if (one.buildId != into.buildId || one.edges.size() != into.edges.size()) {
    return fail(file, "another build of " + into.object + " (build id " + one.buildId +
                          ", not " + into.buildId + "): keep one build per directory");
  }
  const auto offset = static_cast<std::uint32_t>(into.origins.size());
  for (std::string& origin : one.origins) into.origins.push_back(std::move(origin));
  for (std::size_t i = 0; i < into.edges.size(); ++i) {
    Edge& a = into.edges[i];
    const Edge& b = one.edges[i];
    a.hits += b.hits;
    a.timelines += b.timelines;
    if (a.callPc == 0) a.callPc = b.callPc;
    if (a.seedOrigin == 0 && b.seedOrigin != 0) a.seedOrigin = b.seedOrigin + offset;
    if (a.exploredOrigin == 0 && b.exploredOrigin != 0) {
      a.exploredOrigin = b.exploredOrigin + offset;
    }
  }
  into.timelines += one.timelines;
  into.forkedTimelines += one.forkedTimelines;
  into.originsDropped += one.originsDropped;
  into.runs += 1;
  return llvm::Error::success();
}

// "<object>.<pid>.moonpool-cov" -> "<object>"
std::string objectOf(const fs::path& file) {
  const std::string stem = file.stem().string();  // "<object>.<pid>"
  return stem.substr(0, stem.rfind('.'));
}

}  // namespace

llvm::Expected<Recording> readCoverageDir(const std::string& dir, const std::string& object) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return fail(dir, "not a directory");
  std::map<std::string, std::vector<fs::path>> byObject;  // ordered: a stable merge order
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".moonpool-cov") {
      byObject[objectOf(entry.path())].push_back(entry.path());
    }
  }
  if (byObject.empty()) return fail(dir, "no .moonpool-cov files (was --coverage_dir given?)");
  std::string chosen = object;
  if (chosen.empty()) {
    if (byObject.size() > 1) return fail(dir, "coverage of several objects: name one");
    chosen = byObject.begin()->first;
  }
  auto found = byObject.find(chosen);
  if (found == byObject.end()) return fail(dir, "no coverage of '" + chosen + "'");
  std::sort(found->second.begin(), found->second.end());
  Recording merged;
  merged.object = chosen;
  for (const fs::path& file : found->second) {
    llvm::Expected<Recording> one = readOne(file);
    if (!one) return one.takeError();
    one->object = chosen;
    if (llvm::Error e = merge(merged, std::move(*one), file.string())) return std::move(e);
  }
  return merged;
}

llvm::Expected<Recording> readCoverageDirs(const std::vector<std::string>& dirs,
                                           const std::string& object) {
  if (dirs.empty()) return fail("moonpool-cov", "no coverage directory");
  llvm::Expected<Recording> merged = readCoverageDir(dirs[0], object);
  if (!merged || dirs.size() == 1) return merged;
  for (std::size_t i = 1; i < dirs.size(); ++i) {
    // The object the first directory holds (named or the only one) is the one to union.
    llvm::Expected<Recording> one = readCoverageDir(dirs[i], merged->object);
    if (!one) return one.takeError();
    if (one->buildId != merged->buildId || one->edges.size() != merged->edges.size() ||
        one->mode != merged->mode) {
      return fail(dirs[i], "coverage of another build of " + merged->object + " (build id " +
                               (one->buildId.empty() ? "none" : one->buildId) + ", " +
                               std::to_string(one->edges.size()) + " edges; " + dirs[0] +
                               " has " + (merged->buildId.empty() ? "none" : merged->buildId) +
                               ", " + std::to_string(merged->edges.size()) +
                               "): the shards of one run come from one binary");
    }
    if (llvm::Error e = merge(*merged, std::move(*one), dirs[i])) return std::move(e);
  }
  return merged;
}

std::string originCommand(const Recording& recording, std::uint32_t origin) {
  if (origin == 0 || origin > recording.origins.size()) return "";
  const std::string& recipe = recording.origins[origin - 1];
  if (recipe.find('+') == std::string::npos) {
    // A root timeline of an explored run is the plain seed: --noexplore runs just that.
    return recording.command + " --seed=" + recipe +
           (recording.forkedTimelines > 0 ? " --noexplore" : "");
  }
  return recording.command + " --replay='" + recipe + "'";
}

}  // namespace moonpool::cov
