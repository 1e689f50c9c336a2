// Shared helpers of the bug corpus (see wire.h).
#include "wire.h"

#include <array>
#include <cstring>

#include "moonpool/check.h"

namespace moonpool::examples::bugs {
namespace {

constexpr std::size_t kLengthBytes = 4;
constexpr std::size_t kBacklog = 64;

template <typename T>
void append(std::string& out, T value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.append(raw, sizeof(T));
}

constexpr std::array<std::uint32_t, 256> makeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kCrcTable = makeCrcTable();
static_assert(kCrcTable[1] == 0x77073096u, "the reflected CRC-32 table");

}  // namespace

Record& Record::u8(std::uint8_t value) {
  append(bytes_, value);
  return *this;
}
Record& Record::u32(std::uint32_t value) {
  append(bytes_, value);
  return *this;
}
Record& Record::u64(std::uint64_t value) {
  append(bytes_, value);
  return *this;
}
Record& Record::text(std::string_view value) {
  MOONPOOL_CHECK_LE(value.size(), kFrameBytesMax, "a text field longer than a frame");
  u32(static_cast<std::uint32_t>(value.size()));
  bytes_.append(value);
  return *this;
}

bool Reader::take(std::size_t count) {
  if (failed_ || bytes_.size() - at_ < count) {
    failed_ = true;
    return false;
  }
  return true;
}

std::uint8_t Reader::u8() {
  if (!take(1)) return 0;
  return static_cast<std::uint8_t>(bytes_[at_++]);
}
std::uint32_t Reader::u32() {
  std::uint32_t value = 0;
  if (!take(sizeof value)) return 0;
  std::memcpy(&value, bytes_.data() + at_, sizeof value);
  at_ += sizeof value;
  return value;
}
std::uint64_t Reader::u64() {
  std::uint64_t value = 0;
  if (!take(sizeof value)) return 0;
  std::memcpy(&value, bytes_.data() + at_, sizeof value);
  at_ += sizeof value;
  return value;
}
std::string Reader::text() {
  const std::uint32_t size = u32();
  if (!take(size)) return {};
  std::string out(bytes_.substr(at_, size));
  at_ += size;
  return out;
}

std::uint32_t crc32(std::string_view bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char byte : bytes) c = kCrcTable[(c ^ static_cast<std::uint8_t>(byte)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Task<IoResult<void>> writeFrame(Connection& connection, std::string payload) {
  MOONPOOL_CHECK_LE(payload.size(), kFrameBytesMax, "a frame above kFrameBytesMax");
  std::string out;
  append(out, static_cast<std::uint32_t>(payload.size()));
  out += payload;
  co_return co_await connection.writeAll(asBytes(out));
}

Task<std::optional<std::string>> readFrame(Connection& connection) {
  std::array<std::byte, kLengthBytes> header{};
  if (!(co_await connection.readExactly(header)).ok()) co_return std::nullopt;
  std::uint32_t size = 0;
  std::memcpy(&size, header.data(), sizeof size);
  if (size > kFrameBytesMax) co_return std::nullopt;
  std::string payload(size, '\0');
  if (size > 0) {
    auto view = std::as_writable_bytes(std::span<char>(payload.data(), payload.size()));
    if (!(co_await connection.readExactly(view)).ok()) co_return std::nullopt;
  }
  co_return payload;
}

Task<std::optional<std::string>> call(Connection& connection, std::string request) {
  if (!(co_await writeFrame(connection, std::move(request))).ok()) co_return std::nullopt;
  co_return co_await readFrame(connection);
}

Task<std::unique_ptr<Connection>> dial(NetworkProvider& network, NetAddress address) {
  IoResult<std::unique_ptr<Connection>> dialed = co_await network.connect(address);
  if (!dialed.ok()) co_return nullptr;
  co_return std::move(dialed).orThrow();
}

Task<void> serve(Providers providers, std::uint16_t port, ConnectionHandler handler) {
  std::unique_ptr<Listener> listener =
      providers.network().listen(NetAddress{IpAddress(), port}, kBacklog).orThrow();
  for (;;) {
    IoResult<std::unique_ptr<Connection>> accepted = co_await listener->accept();
    if (!accepted.ok()) co_return;
    providers.tasks().spawn("connection", handler(std::move(accepted).orThrow())).detach();
  }
}

IpAddress ipOf(const std::vector<ProcessInfo>& peers, std::string_view name) {
  for (const ProcessInfo& p : peers) {
    if (p.name == name) return p.ip;
  }
  MOONPOOL_CHECK(false, "no process of that name");
  return IpAddress();
}

}  // namespace moonpool::examples::bugs
