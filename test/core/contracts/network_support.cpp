// Helpers of the network contract suites (see network_support.h).
#include "network_support.h"

#include <array>

namespace moonpool::conformance {

IoResult<std::unique_ptr<Listener>> listenLocal(ContractEnv& env, std::size_t backlog) {
  NetworkProvider& network = env.providers.network();
  return network.listen(NetAddress{network.localIp(), 0}, backlog);
}

Task<IoResult<std::string>> readToEnd(Connection& connection) {
  std::string received;
  std::array<std::byte, kReadChunkBytes> buffer;
  for (;;) {
    IoResult<std::size_t> got = co_await connection.read(buffer);
    if (!got.ok()) co_return got.error();
    if (*got == 0) co_return received;
    received.append(reinterpret_cast<const char*>(buffer.data()), *got);
  }
}

Task<IoResult<void>> sendText(Connection& connection, std::string text) {
  co_return co_await connection.writeAll(asBytes(text));
}

std::string pattern(std::size_t size, unsigned salt) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + salt) & 0xff);
  return bytes;
}

}  // namespace moonpool::conformance
