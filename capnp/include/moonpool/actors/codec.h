// Helpers of the generated MessageCodec<T> specializations (state.h): a message as flat
// Cap'n Proto bytes and back. Only generated code includes this header.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <kj/exception.h>

#include <optional>
#include <string>
#include <string_view>

namespace moonpool::actors::internal {

// The message as one flat array (capnp's standard framing: segment table, then segments).
std::string flatten(::capnp::MessageBuilder& message);

// Reads `bytes` as one flat message. Throws ActorError kStateCorrupt when they are not whole
// words or the segment table is malformed; reading fields may still throw kj::Exception,
// which generated code turns into kStateCorrupt with throwCorrupt.
class FlatMessage {
 public:
  explicit FlatMessage(std::string_view bytes);
  FlatMessage(const FlatMessage&) = delete;
  FlatMessage& operator=(const FlatMessage&) = delete;

  template <typename Struct>
  typename Struct::Reader root() {
    return reader_->getRoot<Struct>();
  }

 private:
  kj::Array<::capnp::word> words_;
  std::optional<::capnp::FlatArrayMessageReader> reader_;
};

[[noreturn]] void throwCorrupt(std::string_view typeName, const kj::Exception& error);

}  // namespace moonpool::actors::internal
