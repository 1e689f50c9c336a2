// Checksummed framing: a kj::AsyncIoStream wrapper that puts a CRC32C on every frame, so a
// corrupted byte stream is detected rather than decoded (capnp/ layer).
//
// It sits between Cap'n Proto's message framing and the byte stream (RpcOptions::framing).
// Both ends must use it. Wire format, per frame (integers little-endian):
//
//   u32 payloadLength    1 .. kFramePayloadMax
//   u32 payloadCrc       crc32c(payload)
//   u32 headerCrc        crc32c(the 8 bytes above): a flipped length is caught before the
//                        reader waits for bytes that will never come
//   payload
//
// Writer: each write() becomes one frame per kFramePayloadMax bytes; the payload is not
// copied (the pieces stay valid until the write completes, KJ's rule). Reader: a frame is
// delivered only after both CRCs matched, so no corrupted byte ever reaches the decoder.
//
// Failure: a CRC mismatch or an impossible length fails the read side for good with
// DISCONNECTED ("... corrupted in transit ..."), as does an end of stream inside a frame
// ("truncated"); corruption() tells the two apart. The RPC layer then drops the connection,
// which closes it. Writes keep working (a peer may still receive our Abort message).
//
// Cost: 12 bytes per frame and one CRC pass over the bytes on each side (SSE4.2 when the
// CPU has it, crc32c.h).
#pragma once

#include <kj/async-io.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace moonpool::rpc {

class ChecksummedStream final : public kj::AsyncIoStream {
 public:
  static constexpr std::size_t kHeaderBytes = 12;
  static constexpr std::size_t kFramePayloadMax = std::size_t{1} << 20;

  // `inner` outlives this stream.
  explicit ChecksummedStream(kj::AsyncIoStream& inner);
  ChecksummedStream(const ChecksummedStream&) = delete;
  ChecksummedStream& operator=(const ChecksummedStream&) = delete;

  // Why the read side failed because of corruption (not set for a clean end of stream, a
  // truncation or an I/O error of the inner stream).
  const std::optional<std::string>& corruption() const { return corruption_; }
  std::uint64_t framesWritten() const { return framesWritten_; }
  std::uint64_t framesRead() const { return framesRead_; }

  // implements kj::AsyncInputStream
  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
  // implements kj::AsyncOutputStream
  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;
  kj::Promise<void> whenWriteDisconnected() override { return inner_.whenWriteDisconnected(); }
  // implements kj::AsyncIoStream
  void shutdownWrite() override { inner_.shutdownWrite(); }
  void abortRead() override { inner_.abortRead(); }
  void getsockname(struct sockaddr* addr, kj::uint* length) override {
    inner_.getsockname(addr, length);
  }
  void getpeername(struct sockaddr* addr, kj::uint* length) override {
    inner_.getpeername(addr, length);
  }

 private:
  enum class FrameRead : std::uint8_t { kFrame, kEndOfStream };

  kj::Promise<size_t> readInto(kj::byte* buffer, size_t minBytes, size_t maxBytes, size_t got);
  kj::Promise<FrameRead> readFrame();
  kj::Promise<FrameRead> readPayload(std::uint32_t length, std::uint32_t expectedCrc);
  kj::Exception fail(kj::Exception error);
  kj::Exception corrupted(std::string why);

  kj::AsyncIoStream& inner_;
  kj::byte header_[kHeaderBytes] = {};
  kj::Array<kj::byte> frame_;  // grows up to kFramePayloadMax
  size_t frameLength_ = 0;     // payload bytes of the current frame
  size_t frameOffset_ = 0;     // of which delivered
  kj::Maybe<kj::Exception> failure_;
  std::optional<std::string> corruption_;
  std::uint64_t framesWritten_ = 0;
  std::uint64_t framesRead_ = 0;
};

}  // namespace moonpool::rpc
