// I/O result kinds, addresses, connection helpers and storage path rules.
#include <charconv>
#include <optional>
#include <string>

#include "moonpool/io.h"
#include "moonpool/network.h"
#include "moonpool/storage.h"

namespace moonpool {

std::string_view ioErrorKindName(IoErrorKind kind) {
  switch (kind) {
    case IoErrorKind::kRefused: return "refused";
    case IoErrorKind::kReset: return "reset";
    case IoErrorKind::kBrokenPipe: return "broken pipe";
    case IoErrorKind::kTimedOut: return "timed out";
    case IoErrorKind::kUnreachable: return "unreachable";
    case IoErrorKind::kAddressInUse: return "address in use";
    case IoErrorKind::kInvalidArgument: return "invalid argument";
    case IoErrorKind::kNotFound: return "not found";
    case IoErrorKind::kAlreadyExists: return "already exists";
    case IoErrorKind::kIo: return "i/o error";
  }
  return "unknown";
}

ErrorKind errorKindOf(IoErrorKind kind) {
  switch (kind) {
    case IoErrorKind::kRefused:
    case IoErrorKind::kReset:
    case IoErrorKind::kBrokenPipe:
    case IoErrorKind::kUnreachable:
      return ErrorKind::kDisconnected;
    case IoErrorKind::kTimedOut:
      return ErrorKind::kOverloaded;
    case IoErrorKind::kAddressInUse:
    case IoErrorKind::kInvalidArgument:
    case IoErrorKind::kNotFound:
    case IoErrorKind::kAlreadyExists:
    case IoErrorKind::kIo:
      return ErrorKind::kFailed;
  }
  return ErrorKind::kFailed;
}

std::string IoError::toString() const {
  return std::string(ioErrorKindName(kind)) + ": " + message;
}

void IoError::raise() const { throw Exception(errorKindOf(kind), toString()); }

// ---------------------------------------------------------------------------------------
// Addresses.

namespace {

constexpr unsigned kOctetMax = 255;
constexpr unsigned kPortMax = 65535;

// Parses "a.b.c.d" into `ip`; on failure returns why, for the caller to word the error.
std::optional<std::string> parseOctets(std::string_view text, IpAddress& ip) {
  std::uint32_t value = 0;
  std::string_view rest = text;
  for (int part = 0; part < 4; ++part) {
    const std::size_t dot = part < 3 ? rest.find('.') : rest.size();
    if (dot == std::string_view::npos) return "fewer than four octets";
    std::string_view octet = rest.substr(0, dot);
    unsigned number = 0;
    auto [end, ec] = std::from_chars(octet.data(), octet.data() + octet.size(), number);
    if (ec != std::errc() || end != octet.data() + octet.size() || octet.empty() ||
        number > kOctetMax) {
      return "octet '" + std::string(octet) + "' is not 0..255";
    }
    value = (value << 8) | number;
    rest = part < 3 ? rest.substr(dot + 1) : std::string_view();
  }
  ip = IpAddress(value);
  return std::nullopt;
}

}  // namespace

IoResult<IpAddress> IpAddress::parse(std::string_view text) {
  IpAddress ip;
  if (std::optional<std::string> why = parseOctets(text, ip)) {
    return IoError{IoErrorKind::kInvalidArgument,
                   "bad IP address '" + std::string(text) + "': " + *why + " (expected a.b.c.d)"};
  }
  return ip;
}

std::string IpAddress::toString() const {
  return std::to_string(value_ >> 24) + "." + std::to_string((value_ >> 16) & 0xff) + "." +
         std::to_string((value_ >> 8) & 0xff) + "." + std::to_string(value_ & 0xff);
}

IoResult<NetAddress> NetAddress::parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return IoError{IoErrorKind::kInvalidArgument,
                   "bad address '" + std::string(text) + "': " + std::string(why) +
                       " (expected a.b.c.d:port)"};
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  IpAddress ip;
  if (std::optional<std::string> why = parseOctets(text.substr(0, colon), ip)) return bad(*why);
  std::string_view portText = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || end != portText.data() + portText.size() || portText.empty() ||
      port > kPortMax) {
    return bad("port '" + std::string(portText) + "' is not 0..65535");
  }
  return NetAddress{ip, static_cast<std::uint16_t>(port)};
}

std::string NetAddress::toString() const { return ip.toString() + ":" + std::to_string(port); }

// ---------------------------------------------------------------------------------------
// Connection helpers.

Task<IoResult<void>> Connection::readExactly(std::span<std::byte> buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    IoResult<std::size_t> got = co_await read(buffer.subspan(done));
    if (!got.ok()) co_return got.error();
    if (*got == 0) {
      co_return IoError{IoErrorKind::kReset, "end of stream after " + std::to_string(done) +
                                                 " of " + std::to_string(buffer.size()) +
                                                 " bytes"};
    }
    done += *got;
  }
  co_return IoResult<void>();
}

Task<IoResult<void>> Connection::writeAll(std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const std::span<const std::byte> piece = bytes.subspan(done);
    IoResult<std::size_t> took = co_await write(std::span(&piece, 1));
    if (!took.ok()) co_return took.error();
    MOONPOOL_CHECK_GT(*took, std::size_t{0}, "write() took nothing from a non-empty piece");
    done += *took;
  }
  co_return IoResult<void>();
}

// ---------------------------------------------------------------------------------------
// Storage paths.

IoResult<void> validateStoragePath(const std::string& path) {
  auto bad = [&](std::string_view why) {
    return IoError{IoErrorKind::kInvalidArgument,
                   "bad path '" + path + "': " + std::string(why)};
  };
  if (path.empty()) return bad("empty");
  if (path.front() == '/') return bad("absolute paths are not allowed");
  if (path.back() == '/') return bad("names a directory");
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    std::string_view part(path.data() + start, end - start);
    if (part.empty()) return bad("empty component");
    if (part == "." || part == "..") return bad("'.' and '..' are not allowed");
    if (part.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return IoResult<void>();
}

}  // namespace moonpool
