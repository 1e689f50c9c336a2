// The running binary's build id (see runner/build_id.h).
#include "moonpool/runner/build_id.h"

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/internal/fnv1a.h"

namespace moonpool {
namespace {

// Hex digits of the build id kept in reports: 64 bits are plenty to tell builds apart.
constexpr std::size_t kBuildIdHexDigits = 16;
// Bytes of /proc/self/exe read per step when hashing it (the fallback without a GNU note).
constexpr std::size_t kHashChunkBytes = std::size_t{64} << 10;

std::string hex(const unsigned char* bytes, std::size_t count) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < count && out.size() < kBuildIdHexDigits; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

// Scans one PT_NOTE segment for NT_GNU_BUILD_ID.
std::string noteBuildId(const unsigned char* note, std::size_t size) {
  std::size_t at = 0;
  while (at + sizeof(ElfW(Nhdr)) <= size) {
    ElfW(Nhdr) header;
    std::memcpy(&header, note + at, sizeof header);
    const std::size_t nameAt = at + sizeof header;
    const std::size_t descAt = nameAt + ((header.n_namesz + 3) & ~std::size_t{3});
    const std::size_t next = descAt + ((header.n_descsz + 3) & ~std::size_t{3});
    if (next > size) break;
    if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 &&
        std::memcmp(note + nameAt, "GNU", 4) == 0) {
      return hex(note + descAt, header.n_descsz);
    }
    at = next;
  }
  return {};
}

// dl_iterate_phdr visits the main executable first (empty name); its notes are the ones.
int visitObject(struct dl_phdr_info* info, std::size_t, void* out) {
  auto* id = static_cast<std::string*>(out);
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_NOTE) continue;
    const auto* note = reinterpret_cast<const unsigned char*>(info->dlpi_addr + segment.p_vaddr);
    *id = noteBuildId(note, segment.p_memsz);
    if (!id->empty()) break;
  }
  return 1;  // only the first object (the executable)
}

std::string hashExecutable() {
  std::ifstream file("/proc/self/exe", std::ios::binary);
  if (!file) return "unknown";
  std::vector<char> chunk(kHashChunkBytes);
  std::uint64_t hash = internal::kFnv1aOffset;
  // The last read fails at end of file yet may still have read a short chunk.
  while (file.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) ||
         file.gcount() > 0) {
    hash = internal::fnv1a({chunk.data(), static_cast<std::size_t>(file.gcount())}, hash);
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "fnv-%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

std::string computeBuildId() {
  std::string id;
  dl_iterate_phdr(visitObject, &id);
  if (!id.empty()) return id;
  return hashExecutable();
}

}  // namespace

const std::string& buildId() {
  static const std::string kId = computeBuildId();
  MOONPOOL_CHECK(!kId.empty(), "a build id is never empty");
  return kId;
}

const char* moonpoolVersion() { return MOONPOOL_VERSION_STRING; }

}  // namespace moonpool
