// Flat Cap'n Proto bytes for generated MessageCodecs (codec.h).
#include "moonpool/actors/codec.h"

#include <cstring>

#include "moonpool/actors/actor.h"

namespace moonpool::actors::internal {

std::string flatten(::capnp::MessageBuilder& message) {
  kj::Array<::capnp::word> words = ::capnp::messageToFlatArray(message);
  kj::ArrayPtr<const kj::byte> bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

FlatMessage::FlatMessage(std::string_view bytes) {
  if (bytes.size() % sizeof(::capnp::word) != 0) {
    throw ActorError(ActorFailure::kStateCorrupt,
                     "a message of " + std::to_string(bytes.size()) +
                         " bytes is not a whole number of 8-byte words");
  }
  words_ = kj::heapArray<::capnp::word>(bytes.size() / sizeof(::capnp::word));
  if (!bytes.empty()) std::memcpy(words_.begin(), bytes.data(), bytes.size());
  try {
    reader_.emplace(words_.asPtr());
  } catch (const kj::Exception& error) {
    throwCorrupt("a message", error);
  }
}

void throwCorrupt(std::string_view typeName, const kj::Exception& error) {
  throw ActorError(ActorFailure::kStateCorrupt,
                   "stored bytes are not " + std::string(typeName) + ": " +
                       error.getDescription().cStr());
}

}  // namespace moonpool::actors::internal
