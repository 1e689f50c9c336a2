// The coverage directory's writer (instrument/coverage, private): turns the explorer's
// recording (moonpool/explorer/recording.h) into files, per instrumented object (the
// executable, or a shared library holding instrumented code):
//
//   <object>.<pid>.sancov       LLVM's format: a 64-bit magic (0xC0BFFFFFFFFFFF64, little
//                               endian), then the object-relative program counters of every
//                               covered trace-pc-guard call site (the address after the call
//                               to the callback, minus 1: sancov's coverage point), sorted.
//                               Stock `sancov-19` reads it with the binary.
//   <object>.<pid>.moonpool-cov moonpool's companion (text, format below): every edge of the
//                               object, covered or not, with its block address (pc table),
//                               call site, hits, timelines and first seed / recipe.
//
// moonpool-cov format, version 1 (one item per line; hex without 0x; '-' for unknown):
//   moonpool-cov 1
//   binary <absolute path of the object when it was recorded>
//   build-id <GNU build id, hex, or ->
//   mode <trace-pc-guard | inline-8bit-counters | trace-pc-guard+inline-8bit-counters>
//   command <the reproduction command prefix: binary and simulation flags>
//   timelines <recorded timelines> <of which forked>
//   origins-dropped <origins lost to the recorder's bounds>
//   origins <k>                  then k lines, origin 1..k: a recipe ("<seed>" or
//                                "<seed> + <count>@<hex> -> ...")
//   edges <n>                    then n lines:
//     <block pc> <call pc> <hits> <timelines> <first seed origin> <first explored origin>
//     (block pc: the pc table's; call pc: the guard's call site, found in the code after the
//     block address, for covered and never-hit edges alike; '-' for inline counters)
//   sancov <number of program counters in the .sancov file>
//   end
// Origins are 1-based; 0 means none. A file without its `end` line is truncated.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moonpool::coverage::internal {

// RecordingHooks::write: `dir` exists. False with a one-line reason in `error`.
bool writeCoverageDir(const char* dir, char* error, std::size_t size);

}  // namespace moonpool::coverage::internal
