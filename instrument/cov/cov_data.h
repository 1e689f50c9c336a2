// moonpool-cov: reading a coverage directory (instrument/cov, layer: instrument tooling).
//
// A directory written by a runner's --coverage_dir holds, per instrumented object and run,
// `<object>.<pid>.moonpool-cov` (format: instrument/coverage/recording_writer.h) and
// `<object>.<pid>.sancov`. readCoverageDir() reads every pair for one object, checks each
// against the other, and merges runs of the same build (hits and timelines add up, origins
// are kept from the earliest file that has one).
//
// Errors (a message naming the file and what is wrong, never a crash): no coverage for the
// object in the directory, a .sancov missing, truncated or with a bad magic, a .moonpool-cov
// truncated (no `end` line) or malformed, two builds of the object in one directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llvm/Support/Error.h"

namespace moonpool::cov {

struct Edge {
  std::uint64_t blockPc = 0;  // object-relative; 0 unknown (no pc table)
  std::uint64_t callPc = 0;   // object-relative call site; 0 unknown (never hit)
  std::uint64_t hits = 0;
  std::uint64_t timelines = 0;
  std::uint32_t seedOrigin = 0;      // 1-based index into Recording::origins, 0 none
  std::uint32_t exploredOrigin = 0;  // same
  bool covered() const { return hits > 0; }
};

struct Recording {
  std::string object;   // base name ("maze_sim")
  std::string binary;   // path recorded at run time
  std::string buildId;  // "" when the object had none
  std::string mode;
  std::string command;
  std::uint64_t timelines = 0;
  std::uint64_t forkedTimelines = 0;
  std::uint64_t originsDropped = 0;
  std::uint32_t runs = 0;  // files merged
  std::vector<std::string> origins;  // recipes: "<seed>" or "<seed> + <count>@<hex> -> ..."
  std::vector<Edge> edges;
};

// Reads the coverage of `object` (a base name; "" picks the only object in the directory).
llvm::Expected<Recording> readCoverageDir(const std::string& dir, const std::string& object);

// The union of several directories' coverage of `object` (the shards of one run, each
// written by its own --shard=I/N process): hits and timelines add up, origins are kept from
// the earliest directory that has one. Refuses a directory whose recording is of another
// build (build id, edge count or mode), naming it and the first directory.
llvm::Expected<Recording> readCoverageDirs(const std::vector<std::string>& dirs,
                                           const std::string& object);

// The reproduction command of an origin: "<command> --seed=N" (plus --noexplore when the
// run explored: the root timeline is the plain seed) or "<command> --replay='<recipe>'".
std::string originCommand(const Recording& recording, std::uint32_t origin);

}  // namespace moonpool::cov
