// The coverage directory's writer (see recording_writer.h). Runs once, in the root process
// after the run, so unlike the callbacks it may allocate; still libc and the standard
// library only (dl_iterate_phdr finds each instrumented object, its load bias and build id).
#include "recording_writer.h"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "moonpool/coverage/coverage.h"
#include "moonpool/explorer/edges.h"
#include "moonpool/explorer/recording.h"

extern "C" void __sanitizer_cov_trace_pc_guard(std::uint32_t* guard);

namespace moonpool::coverage::internal {
namespace {

constexpr std::uint64_t kSancovMagic64 = 0xC0BFFFFFFFFFFF64ull;

// One instrumented object (executable or shared library) and the edges it holds.
struct Segment {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
};

struct ObjectEdges {
  std::string path;
  std::uintptr_t bias = 0;  // load address minus link-time address
  std::string buildId;      // hex, "" when the object has none
  std::vector<Segment> code;  // its executable segments, loaded addresses
  std::vector<std::size_t> edges;           // indices into the recording
  std::vector<std::uintptr_t> blockPcs;     // same order; 0 when there is no pc table
  std::vector<std::uintptr_t> callPcs;      // same order; 0 without a guard call found
};

struct Lookup {
  const void* anchor = nullptr;
  bool found = false;
  std::string path;
  std::uintptr_t bias = 0;
  std::string buildId;
  std::vector<Segment> code;
};

std::string buildIdOf(const dl_phdr_info& info) {
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info.dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const auto* at = reinterpret_cast<const unsigned char*>(info.dlpi_addr + ph.p_vaddr);
    const unsigned char* end = at + ph.p_memsz;
    while (at + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) note;
      std::memcpy(&note, at, sizeof note);
      const unsigned char* name = at + sizeof note;
      const unsigned char* desc = name + ((note.n_namesz + 3) & ~3u);
      if (desc + note.n_descsz > end) break;
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0) {
        std::string hex;
        char byte[3];
        for (std::size_t b = 0; b < note.n_descsz; ++b) {
          std::snprintf(byte, sizeof byte, "%02x", desc[b]);
          hex += byte;
        }
        return hex;
      }
      at = desc + ((note.n_descsz + 3) & ~3u);
    }
  }
  return "";
}

int findObject(dl_phdr_info* info, std::size_t /*size*/, void* data) {
  auto& lookup = *static_cast<Lookup*>(data);
  const auto address = reinterpret_cast<std::uintptr_t>(lookup.anchor);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type != PT_LOAD || address < begin || address >= begin + ph.p_memsz) continue;
    lookup.found = true;
    lookup.bias = info->dlpi_addr;
    lookup.path = info->dlpi_name != nullptr ? info->dlpi_name : "";
    lookup.buildId = buildIdOf(*info);
    for (int j = 0; j < info->dlpi_phnum; ++j) {
      const ElfW(Phdr)& code = info->dlpi_phdr[j];
      if (code.p_type != PT_LOAD || (code.p_flags & PF_X) == 0) continue;
      const std::uintptr_t at = info->dlpi_addr + code.p_vaddr;
      lookup.code.push_back(Segment{.begin = at, .end = at + code.p_memsz});
    }
    return 1;
  }
  return 0;
}

std::string selfPath() {
  char buffer[PATH_MAX] = {};
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "unknown";
}

// How far past its block's address (pc table) a guard's call is looked for: the compiler puts
// the call first in the block; only register moves and spills can come before it.
constexpr std::uintptr_t kCallScanBytesMax = 256;

// The call site of the guard whose block starts at `block`: the address of the instruction
// after `call __sanitizer_cov_trace_pc_guard`, minus 1, which is what LLVM's sancov calls a
// coverage point (it finds the same calls by disassembling the binary). x86-64: the first
// E8 rel32 in reach whose target is the callback; 5 bytes matching by chance would need the
// exact 32-bit displacement. 0 when none is found (e.g. a call through a PLT).
std::uintptr_t callSiteAfter(std::uintptr_t block, const std::vector<Segment>& code) {
  const auto target = reinterpret_cast<std::uintptr_t>(&__sanitizer_cov_trace_pc_guard);
  for (const Segment& segment : code) {
    if (block < segment.begin || block >= segment.end) continue;
    const std::uintptr_t end = std::min(segment.end, block + kCallScanBytesMax);
    for (std::uintptr_t at = block; at + 5 <= end; ++at) {
      if (*reinterpret_cast<const unsigned char*>(at) != 0xE8) continue;
      std::int32_t displacement = 0;
      std::memcpy(&displacement, reinterpret_cast<const void*>(at + 1), sizeof displacement);
      const auto offset = static_cast<std::uintptr_t>(static_cast<std::intptr_t>(displacement));
      if (at + 5 + offset == target) return at + 5 - 1;
    }
  }
  return 0;
}

// Finds (or adds) the object holding `anchor`.
ObjectEdges* objectOf(const void* anchor, std::map<std::string, ObjectEdges>& objects) {
  Lookup lookup;
  lookup.anchor = anchor;
  dl_iterate_phdr(findObject, &lookup);
  if (!lookup.found) return nullptr;
  if (lookup.path.empty()) lookup.path = selfPath();
  ObjectEdges& object = objects[lookup.path];
  object.path = lookup.path;
  object.bias = lookup.bias;
  object.buildId = lookup.buildId;
  object.code = lookup.code;
  return &object;
}

// Every edge of the recording, grouped by the object holding it (ordered by path).
bool collectObjects(std::map<std::string, ObjectEdges>& objects, std::string& why) {
  const Layout l = layout();
  for (std::uint32_t m = 0; m < l.guardModules; ++m) {
    const GuardModule module = guardModule(m);
    ObjectEdges* object = objectOf(module.anchor, objects);
    if (object == nullptr) return why = "a guard module is in no loaded object", false;
    for (std::uint32_t i = 0; i < module.guards; ++i) {
      const std::uintptr_t block = module.pcs.empty() ? 0 : module.pcs[i].pc;
      object->edges.push_back(module.firstGuard + i);
      object->blockPcs.push_back(block);
      object->callPcs.push_back(block == 0 ? 0 : callSiteAfter(block, object->code));
    }
  }
  std::size_t next = l.guardPart;
  for (std::uint32_t m = 0; m < l.counterModules; ++m) {
    const std::span<const std::uint8_t> counters = counterModule(m);
    const std::span<const PcEntry> pcs = pcTable(m);
    ObjectEdges* object = objectOf(counters.data(), objects);
    if (object == nullptr) return why = "a counter module is in no loaded object", false;
    for (std::size_t i = 0; i < counters.size(); ++i) {
      object->edges.push_back(next + i);
      object->blockPcs.push_back(pcs.empty() ? 0 : pcs[i].pc);
      object->callPcs.push_back(0);  // inlined counters: no call
    }
    next += counters.size();
  }
  return true;
}

std::string baseName(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string hexOrDash(std::uintptr_t pc, std::uintptr_t bias) {
  if (pc == 0 || pc < bias) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%" PRIxPTR, pc - bias);
  return text;
}

// The covered call sites of the object's trace-pc-guard edges, object-relative and sorted.
std::vector<std::uint64_t> sancovPcs(const ObjectEdges& object) {
  const explorer::RecordedEdge* recorded = explorer::recordedEdges();
  std::vector<std::uint64_t> pcs;
  for (std::size_t i = 0; i < object.edges.size(); ++i) {
    const std::uintptr_t pc = object.callPcs[i];
    if (recorded[object.edges[i]].hits.load() == 0 || pc == 0 || pc < object.bias) continue;
    pcs.push_back(pc - object.bias);
  }
  std::sort(pcs.begin(), pcs.end());
  pcs.erase(std::unique(pcs.begin(), pcs.end()), pcs.end());
  return pcs;
}

bool writeFile(const std::string& path, const std::string& bytes, std::string& why) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return why = "cannot write " + path + ": " + std::strerror(errno), false;
  const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  const bool closed = std::fclose(file) == 0;
  if (!wrote || !closed) return why = "cannot write " + path + ": " + std::strerror(errno), false;
  return true;
}

std::string sancovBytes(const std::vector<std::uint64_t>& pcs) {
  std::string bytes(sizeof(std::uint64_t) * (pcs.size() + 1), '\0');
  std::memcpy(bytes.data(), &kSancovMagic64, sizeof kSancovMagic64);  // little endian host
  if (!pcs.empty()) std::memcpy(bytes.data() + 8, pcs.data(), pcs.size() * sizeof pcs[0]);
  return bytes;
}

std::string companionText(const ObjectEdges& object, std::size_t sancovCount) {
  const explorer::RecordedEdge* recorded = explorer::recordedEdges();
  const explorer::RecordingStats stats = explorer::recordingStats();
  const explorer::EdgeSource* source = explorer::edgeSource();
  std::string out = "moonpool-cov 1\nbinary " + object.path + "\nbuild-id " +
                    (object.buildId.empty() ? "-" : object.buildId) + "\nmode " +
                    source->mode() + "\ncommand " + explorer::recordingCommand() + "\n";
  out += "timelines " + std::to_string(stats.timelines) + " " +
         std::to_string(stats.forkedTimelines) + "\n";
  out += "origins-dropped " + std::to_string(stats.originsDropped) + "\n";
  out += "origins " + std::to_string(stats.origins) + "\n";
  for (std::uint32_t i = 0; i < stats.origins; ++i) {
    out += explorer::recordedOrigin(i);
    out += "\n";
  }
  out += "edges " + std::to_string(object.edges.size()) + "\n";
  for (std::size_t i = 0; i < object.edges.size(); ++i) {
    const explorer::RecordedEdge& e = recorded[object.edges[i]];
    out += hexOrDash(object.blockPcs[i], object.bias) + " " +
           hexOrDash(object.callPcs[i], object.bias) +
           " " + std::to_string(e.hits.load()) + " " + std::to_string(e.timelines.load()) +
           " " + std::to_string(e.seedOrigin.load()) + " " +
           std::to_string(e.exploredOrigin.load()) + "\n";
  }
  out += "sancov " + std::to_string(sancovCount) + "\nend\n";
  return out;
}

}  // namespace

bool writeCoverageDir(const char* dir, char* error, std::size_t size) {
  std::map<std::string, ObjectEdges> objects;
  std::string why;
  if (!collectObjects(objects, why)) {
    std::snprintf(error, size, "coverage: %s", why.c_str());
    return false;
  }
  const std::string pid = std::to_string(getpid());
  for (const auto& [path, object] : objects) {
    const std::string stem = std::string(dir) + "/" + baseName(path) + "." + pid;
    const std::vector<std::uint64_t> pcs = sancovPcs(object);
    if (!writeFile(stem + ".sancov", sancovBytes(pcs), why) ||
        !writeFile(stem + ".moonpool-cov", companionText(object, pcs.size()), why)) {
      std::snprintf(error, size, "coverage: %s", why.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace moonpool::coverage::internal
