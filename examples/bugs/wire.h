// Shared helpers of the bug corpus (examples/bugs, public API only): length-prefixed frames
// over a Connection, a little-endian record codec, CRC-32 and a dial-or-nothing helper.
//
//   Record out;  out.u64(id).u64(amount);
//   co_await writeFrame(connection, out.bytes());
//   std::optional<std::string> in = co_await readFrame(connection);
//   Reader r(*in);  std::uint64_t id = r.u64();
//
// A frame is a u32 length then that many bytes. A length above kFrameBytesMax is a protocol
// error: readFrame returns nothing and the caller drops the connection (a corrupt peer is
// never trusted with an allocation). Every helper is deterministic and draws no randomness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "moonpool/sim/world.h"
#include "moonpool/task.h"
#include "moonpool/task_function.h"

namespace moonpool::examples::bugs {

// Largest frame payload any protocol of the corpus sends.
inline constexpr std::size_t kFrameBytesMax = 64 * 1024;

// Builds a record: fixed-width little-endian fields appended in order.
class Record {
 public:
  Record& u8(std::uint8_t value);
  Record& u32(std::uint32_t value);
  Record& u64(std::uint64_t value);
  Record& text(std::string_view value);  // u32 length, then the bytes
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_{};
};

// Reads a record built by Record. Reading past the end sets failed() and yields zeros, so
// a decoder reads every field, then checks failed() once. A view: the bytes must outlive
// the Reader (never pass it a temporary string).
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::string text();
  bool failed() const { return failed_; }
  bool atEnd() const { return at_ == bytes_.size(); }

 private:
  bool take(std::size_t count);
  std::string_view bytes_;
  std::size_t at_ = 0;
  bool failed_ = false;
};

// CRC-32 (the reflected 0xEDB88320 polynomial) of `bytes`.
std::uint32_t crc32(std::string_view bytes);

// Writes one frame (length, payload). payload.size() <= kFrameBytesMax (checked).
Task<IoResult<void>> writeFrame(Connection& connection, std::string payload);
// Reads one frame; nothing at end of stream, on an I/O error or on an oversized length.
Task<std::optional<std::string>> readFrame(Connection& connection);
// One request, one reply on `connection`; nothing if either direction failed.
Task<std::optional<std::string>> call(Connection& connection, std::string request);

// Connects to `address`, or returns null (refused, reset, timed out, unreachable).
Task<std::unique_ptr<Connection>> dial(NetworkProvider& network, NetAddress address);

// Serves connections: listens on (this process's IP, port) and runs handler(connection) as
// a task of the process for each accepted one, until the listener fails (the process dies).
using ConnectionHandler = TaskFunction<Task<void>(std::unique_ptr<Connection>)>;
Task<void> serve(Providers providers, std::uint16_t port, ConnectionHandler handler);

// The IP of the process named `name` (checked: it must exist).
IpAddress ipOf(const std::vector<ProcessInfo>& peers, std::string_view name);

}  // namespace moonpool::examples::bugs
