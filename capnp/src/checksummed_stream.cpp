// Checksummed framing over a kj::AsyncIoStream (see checksummed_stream.h).
#include "moonpool/rpc/checksummed_stream.h"

#include <kj/debug.h>
#include <kj/vector.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string>

#include "moonpool/check.h"
#include "moonpool/rpc/crc32c.h"

namespace moonpool::rpc {

namespace {

constexpr std::size_t kHeaderCrcOffset = 8;
static_assert(ChecksummedStream::kFramePayloadMax <= UINT32_MAX, "lengths travel as u32");
static_assert(ChecksummedStream::kHeaderBytes == kHeaderCrcOffset + 4);
// Frame buffers start at this size and grow to the largest frame seen.
constexpr std::size_t kFrameBufferMin = 4096;

using Header = std::array<kj::byte, ChecksummedStream::kHeaderBytes>;

std::span<const std::byte> bytesOf(const kj::byte* data, std::size_t size) {
  return std::as_bytes(std::span(data, size));
}

void storeLe32(kj::byte* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<kj::byte>(value >> (8 * i));
}

std::uint32_t loadLe32(const kj::byte* in) {
  return std::uint32_t{in[0]} | std::uint32_t{in[1]} << 8 | std::uint32_t{in[2]} << 16 |
         std::uint32_t{in[3]} << 24;
}

std::string hex(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

// The frames of one write: their headers and the piece list handed to the inner stream
// (header, payload slices, header, ...). Payload slices point into the caller's pieces.
struct OutgoingFrames {
  kj::Array<Header> headers;
  kj::Vector<kj::ArrayPtr<const kj::byte>> pieces;
};

// Appends the slices of the next `length` payload bytes, advancing the cursor; returns
// their CRC.
std::uint32_t appendPayload(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces,
                            std::size_t& index, std::size_t& offset, std::size_t length,
                            kj::Vector<kj::ArrayPtr<const kj::byte>>& out) {
  std::uint32_t crc = 0;
  while (length > 0) {
    MOONPOOL_CHECK_LT(index, pieces.size(), "frame longer than the pieces");
    const kj::ArrayPtr<const kj::byte>& piece = pieces[index];
    const std::size_t take = std::min(length, piece.size() - offset);
    if (take > 0) {
      kj::ArrayPtr<const kj::byte> slice = piece.slice(offset, offset + take);
      crc = crc32c(bytesOf(slice.begin(), slice.size()), crc);
      out.add(slice);
      offset += take;
      length -= take;
    }
    if (offset == piece.size()) {
      ++index;
      offset = 0;
    }
  }
  return crc;
}

}  // namespace

ChecksummedStream::ChecksummedStream(kj::AsyncIoStream& inner) : inner_(inner) {}

kj::Promise<void> ChecksummedStream::write(const void* buffer, size_t size) {
  kj::ArrayPtr<const kj::byte> piece(static_cast<const kj::byte*>(buffer), size);
  return write(kj::arrayPtr(&piece, 1));
}

kj::Promise<void> ChecksummedStream::write(
    kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  std::size_t total = 0;
  for (const auto& piece : pieces) total += piece.size();
  if (total == 0) return kj::READY_NOW;
  const std::size_t frames = (total + kFramePayloadMax - 1) / kFramePayloadMax;
  auto out = kj::heap<OutgoingFrames>();
  out->headers = kj::heapArray<Header>(frames);
  out->pieces.reserve(frames * 2 + pieces.size());
  std::size_t index = 0, offset = 0, remaining = total;
  for (Header& header : out->headers) {
    const std::size_t length = std::min(remaining, kFramePayloadMax);
    out->pieces.add(kj::arrayPtr(header.data(), header.size()));
    const std::uint32_t payloadCrc = appendPayload(pieces, index, offset, length, out->pieces);
    storeLe32(header.data(), static_cast<std::uint32_t>(length));
    storeLe32(header.data() + 4, payloadCrc);
    storeLe32(header.data() + kHeaderCrcOffset, crc32c(bytesOf(header.data(), kHeaderCrcOffset)));
    remaining -= length;
  }
  MOONPOOL_CHECK_EQ(remaining, 0u, "every byte went into a frame");
  framesWritten_ += frames;
  auto promise = inner_.write(out->pieces.asPtr());
  return promise.attach(kj::mv(out));
}

kj::Promise<size_t> ChecksummedStream::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  KJ_REQUIRE(minBytes <= maxBytes, "tryRead: minBytes > maxBytes", minBytes, maxBytes);
  return readInto(static_cast<kj::byte*>(buffer), minBytes, maxBytes, 0);
}

kj::Promise<size_t> ChecksummedStream::readInto(kj::byte* buffer, size_t minBytes,
                                                size_t maxBytes, size_t got) {
  KJ_IF_MAYBE(error, failure_) { return kj::cp(*error); }
  const size_t n = std::min(frameLength_ - frameOffset_, maxBytes - got);
  if (n > 0) std::memcpy(buffer + got, frame_.begin() + frameOffset_, n);
  frameOffset_ += n;
  got += n;
  // A read always waits for at least one byte: 0 means end of stream to most callers.
  if (got == maxBytes || got >= std::max<size_t>(minBytes, 1)) return got;
  MOONPOOL_CHECK_EQ(frameOffset_, frameLength_, "a new frame is read only when one is used up");
  return readFrame().then([this, buffer, minBytes, maxBytes, got](FrameRead read) {
    if (read == FrameRead::kEndOfStream) return kj::Promise<size_t>(got);
    return readInto(buffer, minBytes, maxBytes, got);
  });
}

kj::Promise<ChecksummedStream::FrameRead> ChecksummedStream::readFrame() {
  return inner_.tryRead(header_, kHeaderBytes, kHeaderBytes)
      .then(
          [this](size_t n) -> kj::Promise<FrameRead> {
            if (n == 0) return FrameRead::kEndOfStream;
            if (n < kHeaderBytes) {
              return fail(KJ_EXCEPTION(DISCONNECTED, "checksummed stream truncated: the stream "
                                                     "ended inside a frame header",
                                       n, kHeaderBytes));
            }
            const std::uint32_t length = loadLe32(header_);
            const std::uint32_t payloadCrc = loadLe32(header_ + 4);
            const std::uint32_t headerCrc = loadLe32(header_ + kHeaderCrcOffset);
            const std::uint32_t actual = crc32c(bytesOf(header_, kHeaderCrcOffset));
            if (actual != headerCrc) {
              return corrupted("frame header CRC32C mismatch (header says " + hex(headerCrc) +
                               ", computed " + hex(actual) + ")");
            }
            if (length == 0 || length > kFramePayloadMax) {
              return corrupted("frame length " + std::to_string(length) + " outside 1.." +
                               std::to_string(kFramePayloadMax));
            }
            return readPayload(length, payloadCrc);
          },
          [this](kj::Exception&& error) -> kj::Promise<FrameRead> { return fail(kj::mv(error)); });
}

kj::Promise<ChecksummedStream::FrameRead> ChecksummedStream::readPayload(
    std::uint32_t length, std::uint32_t expectedCrc) {
  if (frame_.size() < length) {
    frame_ =
        kj::heapArray<kj::byte>(std::max<size_t>({length, kFrameBufferMin, frame_.size() * 2}));
  }
  return inner_.tryRead(frame_.begin(), length, length)
      .then(
          [this, length, expectedCrc](size_t n) -> kj::Promise<FrameRead> {
            if (n < length) {
              return fail(KJ_EXCEPTION(DISCONNECTED, "checksummed stream truncated: the stream "
                                                     "ended inside a frame",
                                       n, length));
            }
            const std::uint32_t actual = crc32c(bytesOf(frame_.begin(), length));
            if (actual != expectedCrc) {
              return corrupted("payload CRC32C mismatch in a " + std::to_string(length) +
                               "-byte frame (header says " + hex(expectedCrc) + ", computed " +
                               hex(actual) + ")");
            }
            frameLength_ = length;
            frameOffset_ = 0;
            ++framesRead_;
            return FrameRead::kFrame;
          },
          [this](kj::Exception&& error) -> kj::Promise<FrameRead> { return fail(kj::mv(error)); });
}

kj::Exception ChecksummedStream::fail(kj::Exception error) {
  failure_ = kj::cp(error);
  return error;
}

kj::Exception ChecksummedStream::corrupted(std::string why) {
  std::string description = "checksummed stream: frame " + std::to_string(framesRead_ + 1) +
                            ": " + why + ": the bytes were corrupted in transit; closing the "
                                         "connection";
  corruption_ = why;
  return fail(kj::Exception(kj::Exception::Type::DISCONNECTED, __FILE__, __LINE__,
                            kj::str(description.c_str())));
}

}  // namespace moonpool::rpc
