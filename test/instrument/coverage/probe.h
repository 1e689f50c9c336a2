// test/coverage: the ignorelist probe (probe.cpp), user code in a moonpool sub-namespace (as
// the examples are) that pulls in header code of libstdc++ (std::map), the moonpool runtime
// (Task, whenAll, Channel, Event) and Abseil (StrJoin). Built twice, both with
// inline-8bit-counters,pc-table: `listed` with the ignorelist, `raw` without.
#pragma once

#include <string>

namespace moonpool::covtest::listed {
// Fills and walks a std::map keyed by a type of this namespace; returns a checksum.
int mapWorkload(int n);
// Sends n keys through a Channel between two Tasks on a Simulation; returns their sum.
int channelWorkload(int n);
// "keys 0,1,..." for n keys, through absl::StrJoin with a formatter of this namespace.
std::string describe(int n);
}  // namespace moonpool::covtest::listed

namespace moonpool::covtest::raw {
int mapWorkload(int n);
int channelWorkload(int n);
std::string describe(int n);
}  // namespace moonpool::covtest::raw
