// The build id printed next to every reproduction line (runtime/ runner layer, public).
//
// A reproduction line replays a seed only on the binary that found it, so the report names
// the binary: the GNU build-id note of the running executable (a hash the linker computes
// over the output; moonpool_runner asks for it with -Wl,--build-id), as lowercase hex
// truncated to 16 digits. Without a note (another linker, stripped notes) it falls back to
// FNV-1a-64 over the bytes of /proc/self/exe, marked "fnv-<hex>"; "unknown" if neither is
// readable. Computed once per process and cached.
#pragma once

#include <string>

namespace moonpool {

const std::string& buildId();

// The moonpool release this runner was built from ("0.1.0": the CMake project version).
const char* moonpoolVersion();

}  // namespace moonpool
