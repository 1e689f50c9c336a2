// Stable 64-bit Cap'n Proto IDs (annotate/ layer).
//
// Cap'n Proto needs a unique 64-bit ID for every file and type, with the high bit set.
// moonpool derives them from names instead of randomness, so regenerating never changes
// them: the first 8 bytes (little-endian) of MD5("moonpool:" + key), with bit 63 forced on.
// Keys: "file:<header file name>", "type:<qualified C++ name>" for services, actors,
// messages and enums, and "helper:<header file name>:<helper struct name>" for generated
// optional/map helper structs. Renaming or moving a type to another namespace changes its
// ID (a wire-visible change, like in Cap'n Proto itself).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace moonpool::annotate {

inline constexpr uint64_t kCapnpIdHighBit = uint64_t{1} << 63;

uint64_t stableId(std::string_view key);

// "@0x" followed by 16 lower-case hex digits.
std::string formatCapnpId(uint64_t id);

}  // namespace moonpool::annotate
