// Directory: well-known names -> addresses (see peer.h).
#include <string>

#include "moonpool/rpc/peer.h"

namespace moonpool::rpc {

std::optional<NetAddress> Directory::find(std::string_view name) const {
  auto found = names_.find(name);
  if (found == names_.end()) return std::nullopt;
  return found->second;
}

IoResult<Directory> Directory::parse(std::string_view text) {
  Directory directory;
  if (text.empty()) return directory;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(start, end - start);
    std::size_t equals = entry.find('=');
    auto bad = [&](std::string why) {
      return IoError{IoErrorKind::kInvalidArgument,
                     "directory entry '" + std::string(entry) + "' at offset " +
                         std::to_string(start) + ": " + why};
    };
    if (equals == std::string_view::npos || equals == 0) return bad("expected name=ip:port");
    std::string name(entry.substr(0, equals));
    if (directory.names_.count(name) != 0) return bad("the name '" + name + "' appears twice");
    IoResult<NetAddress> address = NetAddress::parse(entry.substr(equals + 1));
    if (!address.ok()) return bad(address.error().toString());
    directory.names_.emplace(std::move(name), address.value());
    start = end + 1;
  }
  return directory;
}

}  // namespace moonpool::rpc
