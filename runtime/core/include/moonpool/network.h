// The network provider: listeners and byte-stream connections (runtime/ core layer).
//
// Service code opens connections only through a NetworkProvider it was given (STYLE.md
// rule 1). Two implementations behave the same under the conformance suite
// (test/core/contracts/network_contract_test.cpp):
//   - SimNetwork (sim/sim_network.h): in-memory streams between simulated processes, with
//     latency, clogging, partitions, resets, partial I/O and bit flips;
//   - RealNetworkProvider (real/real_network.h): TCP over KJ's event loop.
//
// Semantics both honour:
//   - listen() binds now; connections wait in a backlog of `backlog` entries until accept().
//     A connect beyond a full backlog waits (as a TCP SYN queue does).
//   - connect() to an address where nothing listens fails with kRefused.
//   - read() returns 1..buffer.size() bytes, or 0 at end of stream (the peer shut down its
//     writing side and everything it wrote was read). Short reads are normal.
//   - write() accepts a prefix of the given pieces (at least one byte when any piece is not
//     empty) and returns how many bytes it took; writeAll() loops. At most kWritePiecesMax
//     pieces per call: the simulated network stops the run (MOONPOOL_CHECK) above it, so
//     callers with more split them over several calls.
//   - shutdownWrite() sends end-of-stream after the bytes already written (half-close): the
//     peer can still write to us.
//   - abort() resets the connection: the peer's next read or write fails with kReset, and
//     bytes still in flight are lost. Destroying a Connection closes both directions
//     gracefully (the peer reads what was sent, then end of stream).
//   - Errors are values (io.h); a connection whose read or write failed stays failed.
// Lifetime: a Connection or Listener must not outlive its provider. Buffers passed to read()
// and write() must live until the returned Task completes or is destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "moonpool/io.h"
#include "moonpool/task.h"

namespace moonpool {

// Most pieces one vectored Connection::write() may carry (see the semantics above).
inline constexpr std::size_t kWritePiecesMax = 1024;


// An IPv4 address, held in host byte order (10.0.1.2 is 0x0a000102). A type of its own so an
// IP cannot be passed where a process id, a port or a count is expected: build one with
// fromOctets() (or explicitly from its 32-bit value), read it back with value().
// The default, 0.0.0.0, is the unspecified address: "this process's own IP" where an API
// says so (listen, connect, ProcessSpec). Ordered by value, so maps keyed by it iterate in
// the same order as maps keyed by the raw number.
class IpAddress {
 public:
  constexpr IpAddress() = default;
  constexpr explicit IpAddress(std::uint32_t value) : value_(value) {}

  static constexpr IpAddress fromOctets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                        std::uint8_t d) {
    return IpAddress((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) |
                     (std::uint32_t{c} << 8) | std::uint32_t{d});
  }
  // "a.b.c.d", each octet 0..255 in decimal; a clear kInvalidArgument error for anything else.
  static IoResult<IpAddress> parse(std::string_view text);

  constexpr std::uint32_t value() const { return value_; }
  constexpr bool isUnspecified() const { return value_ == 0; }
  // "a.b.c.d".
  std::string toString() const;

  constexpr auto operator<=>(const IpAddress&) const = default;

 private:
  std::uint32_t value_ = 0;
};

static_assert(IpAddress::fromOctets(10, 0, 1, 2).value() == 0x0a000102);
static_assert(IpAddress().isUnspecified());
static_assert(sizeof(IpAddress) == sizeof(std::uint32_t));

// 127.0.0.1: where RealNetworkProvider is reached by default, and "localhost" in KJ text.
inline constexpr IpAddress kLoopbackIp = IpAddress::fromOctets(127, 0, 0, 1);

// An IPv4 address and port. Ordered (for deterministic maps keyed by address): by IP, then
// by port.
struct NetAddress {
  IpAddress ip;
  std::uint16_t port = 0;

  // "a.b.c.d:port"; a clear kInvalidArgument error for anything else.
  static IoResult<NetAddress> parse(std::string_view text);
  std::string toString() const;

  auto operator<=>(const NetAddress&) const = default;
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Reads 1..buffer.size() bytes; 0 at end of stream. buffer must not be empty.
  virtual Task<IoResult<std::size_t>> read(std::span<std::byte> buffer) = 0;
  // Accepts a prefix of `pieces` in order (a vectored write); returns the byte count taken.
  virtual Task<IoResult<std::size_t>> write(std::span<const std::span<const std::byte>> pieces) = 0;
  // Half-close: end of stream for the peer after everything written so far.
  virtual IoResult<void> shutdownWrite() = 0;
  // Reset: see the header comment.
  virtual void abort() = 0;

  virtual NetAddress localAddress() const = 0;
  virtual NetAddress remoteAddress() const = 0;
  // True when bytes may arrive altered without an error (a simulated link opened while bit
  // flips were on; both ends agree), so a protocol on top should checksum what it reads.
  // Real TCP: false (its own checksum is the only one; a protocol may still opt in).
  virtual bool corruptsBytes() const { return false; }

  // Helpers over read()/write().
  // Reads exactly buffer.size() bytes; an early end of stream is kReset ("end of stream
  // after N of M bytes").
  Task<IoResult<void>> readExactly(std::span<std::byte> buffer);
  // Writes every byte of `bytes`.
  Task<IoResult<void>> writeAll(std::span<const std::byte> bytes);
};

class Listener {
 public:
  virtual ~Listener() = default;

  // The next pending connection, oldest first; waits when the backlog is empty.
  virtual Task<IoResult<std::unique_ptr<Connection>>> accept() = 0;
  virtual NetAddress localAddress() const = 0;
};

class NetworkProvider {
 public:
  virtual ~NetworkProvider() = default;

  // Port 0 picks a free port (read it back with localAddress()). backlog >= 1.
  virtual IoResult<std::unique_ptr<Listener>> listen(NetAddress address, std::size_t backlog) = 0;
  virtual Task<IoResult<std::unique_ptr<Connection>>> connect(NetAddress address) = 0;
  // The address this provider's process is reachable at (its IP; port 0).
  virtual IpAddress localIp() const = 0;
};

// Views of a string's bytes, for tests and small protocols.
inline std::span<const std::byte> asBytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

}  // namespace moonpool
