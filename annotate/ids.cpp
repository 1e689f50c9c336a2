// Stable ID derivation (see ids.h).
#include "ids.h"

#include <llvm/Support/MD5.h>

#include <cstdio>

namespace moonpool::annotate {

uint64_t stableId(std::string_view key) {
  llvm::MD5 hash;
  hash.update("moonpool:");
  hash.update(llvm::StringRef(key.data(), key.size()));
  llvm::MD5::MD5Result digest;
  hash.final(digest);
  uint64_t id = 0;
  for (int i = 7; i >= 0; --i) id = (id << 8) | digest[static_cast<size_t>(i)];
  return id | kCapnpIdHighBit;
}

std::string formatCapnpId(uint64_t id) {
  char buffer[24];
  std::snprintf(buffer, sizeof(buffer), "@0x%016llx", static_cast<unsigned long long>(id));
  return buffer;
}

}  // namespace moonpool::annotate
