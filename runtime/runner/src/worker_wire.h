// The pipe protocol between forked workers and the parent runner (runtime/ runner layer,
// private).
//
// A worker writes frames: a tag byte, a u64 payload length (little-endian), the payload.
//   kBegin   index, seed         (before each seed: the parent knows what was running if
//                                 the worker dies)
//   kResult  a SeedResult        (after each seed)
//   kEnd     stop reason string  (the worker's loop ended normally)
//   kCheck   report string       (a MOONPOOL_CHECK failed in the seed announced; the worker
//                                 aborts next, and the parent reports the seed with it)
// Integers are u64 little-endian, strings a u64 length then the bytes. Frames are bounded by
// kFrameBytesMax; a larger or malformed frame is a decoding error, reported as the worker's
// crash, never trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "moonpool/runner/report.h"

namespace moonpool::internal {

inline constexpr std::uint64_t kFrameBytesMax = std::uint64_t{256} << 20;

struct BeginFrame {
  std::uint64_t index = 0;
  std::uint64_t seed = 0;
};
struct EndFrame {
  std::string stopReason{};
};
struct CheckFrame {
  std::string report{};  // the failed check's line (condition, operands, message, location)
};
using Frame = std::variant<BeginFrame, SeedResult, EndFrame, CheckFrame>;

// The bytes of one frame.
std::string encodeFrame(const Frame& frame);

// Decoding state for one worker's stream.
class FrameReader {
 public:
  void append(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, nullopt when more bytes are needed. A malformed stream sets
  // error() and returns nullopt from then on.
  std::optional<Frame> next();
  const std::string& error() const { return error_; }
  // Bytes received but not yet forming a complete frame.
  std::size_t pending() const { return buffer_.size(); }

 private:
  std::string buffer_;
  std::string error_;
};

// Writes every byte to `fd` (retrying partial writes and EINTR). False if the pipe broke.
bool writeAll(int fd, std::string_view bytes);

}  // namespace moonpool::internal
