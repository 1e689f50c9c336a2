// Goal: checksummed framing delivers exactly the bytes written (large writes split into
// frames, reads spanning frames honour minBytes), and fails the read side with a clear
// DISCONNECTED reason on any flipped bit (header or payload), on an impossible length
// (detected without waiting for the bytes it announces), and on truncation, which is told
// apart from corruption.
// Method: plain KJ event loop and in-memory pipes; frames are captured raw, mutated, and
// replayed into a fresh reader.
#include <gtest/gtest.h>

#include <kj/async-io.h>

#include <cstring>
#include <optional>
#include <string>

#include "moonpool/rpc/checksummed_stream.h"
#include "moonpool/rpc/crc32c.h"

namespace moonpool {
namespace {

using rpc::ChecksummedStream;

struct KjLoop {
  kj::EventLoop loop;
  kj::WaitScope waitScope{loop};
};

kj::Array<kj::byte> patterned(std::size_t size) {
  auto data = kj::heapArray<kj::byte>(size);
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<kj::byte>(i * 131 + (i >> 9));
  return data;
}

// The raw frames a ChecksummedStream writes for `writes`, one write() each.
kj::Array<kj::byte> framesOf(KjLoop& kj, kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> writes,
                             std::uint64_t* frames = nullptr) {
  auto pipe = kj::newTwoWayPipe();
  ChecksummedStream writer(*pipe.ends[0]);
  kj::Promise<void> writing = kj::READY_NOW;
  for (auto piece : writes) {
    writing =
        writing.then([&writer, piece]() { return writer.write(piece.begin(), piece.size()); });
  }
  writing = writing.then([&writer]() { writer.shutdownWrite(); }).eagerlyEvaluate(nullptr);
  auto raw = pipe.ends[1]->readAllBytes().wait(kj.waitScope);
  writing.wait(kj.waitScope);
  if (frames != nullptr) *frames = writer.framesWritten();
  return raw;
}

// Feeds `raw` into a fresh ChecksummedStream reader; returns what it read or the failure.
struct ReadOutcome {
  kj::Array<kj::byte> data;
  kj::Maybe<kj::Exception> error;
  std::optional<std::string> corruption;
};

ReadOutcome replay(KjLoop& kj, kj::ArrayPtr<const kj::byte> raw) {
  auto pipe = kj::newTwoWayPipe();
  ChecksummedStream reader(*pipe.ends[1]);
  auto writing = pipe.ends[0]->write(raw.begin(), raw.size())
                     .then([&]() { pipe.ends[0]->shutdownWrite(); })
                     .eagerlyEvaluate([](kj::Exception&&) {});
  ReadOutcome outcome;
  kj::Maybe<kj::Exception> error = kj::runCatchingExceptions(
      [&]() { outcome.data = reader.readAllBytes().wait(kj.waitScope); });
  outcome.error = kj::mv(error);
  outcome.corruption = reader.corruption();
  return outcome;
}

TEST(ChecksummedStreamTest, RoundTripsSmallAndMultiFrameWrites) {
  KjLoop kj;
  auto small = patterned(100);
  auto big = patterned(ChecksummedStream::kFramePayloadMax * 2 + 12345);
  kj::ArrayPtr<const kj::byte> writes[] = {small.asPtr(), big.asPtr(), small.asPtr()};
  std::uint64_t frames = 0;
  auto raw = framesOf(kj, writes, &frames);
  EXPECT_EQ(frames, 1u + 3u + 1u) << "the big write is split at kFramePayloadMax";
  EXPECT_EQ(raw.size(), small.size() * 2 + big.size() + frames * ChecksummedStream::kHeaderBytes);
  ReadOutcome out = replay(kj, raw);
  ASSERT_TRUE(out.error == nullptr);
  ASSERT_EQ(out.data.size(), small.size() * 2 + big.size());
  EXPECT_TRUE(out.data.slice(0, 100) == small.asPtr());
  EXPECT_TRUE(out.data.slice(100, 100 + big.size()) == big.asPtr());
}

TEST(ChecksummedStreamTest, ReadsSpanFramesUntilMinBytes) {
  KjLoop kj;
  auto pipe = kj::newTwoWayPipe();
  ChecksummedStream writer(*pipe.ends[0]);
  ChecksummedStream reader(*pipe.ends[1]);
  auto writing = writer.write("abc", 3)
                     .then([&]() { return writer.write("defgh", 5); })
                     .then([&]() { writer.shutdownWrite(); })
                     .eagerlyEvaluate(nullptr);
  char buffer[16] = {};
  size_t n = reader.tryRead(buffer, 6, sizeof(buffer)).wait(kj.waitScope);
  EXPECT_GE(n, 6u);
  EXPECT_EQ(std::string(buffer, n), std::string("abcdefgh").substr(0, n));
  n += reader.tryRead(buffer + n, 1, sizeof(buffer) - n).wait(kj.waitScope);
  EXPECT_EQ(std::string(buffer, n), "abcdefgh");
  EXPECT_EQ(reader.tryRead(buffer, 1, sizeof(buffer)).wait(kj.waitScope), 0u) << "end of stream";
  writing.wait(kj.waitScope);
}

TEST(ChecksummedStreamTest, EveryFlippedBitFailsTheReadWithAClearReason) {
  KjLoop kj;
  auto payload = patterned(40);
  kj::ArrayPtr<const kj::byte> writes[] = {payload.asPtr()};
  auto raw = framesOf(kj, writes);
  ASSERT_EQ(raw.size(), ChecksummedStream::kHeaderBytes + payload.size());
  for (std::size_t bit = 0; bit < raw.size() * 8; ++bit) {
    auto mutated = kj::heapArray<kj::byte>(raw.asPtr());
    mutated[bit / 8] ^= static_cast<kj::byte>(1u << (bit % 8));
    ReadOutcome out = replay(kj, mutated);
    KJ_IF_MAYBE(error, out.error) {
      EXPECT_EQ(error->getType(), kj::Exception::Type::DISCONNECTED) << "bit " << bit;
      EXPECT_NE(std::string(error->getDescription().cStr()).find("corrupted in transit"),
                std::string::npos)
          << error->getDescription().cStr();
      EXPECT_TRUE(out.corruption.has_value()) << "bit " << bit;
    } else {
      ADD_FAILURE() << "flipped bit " << bit << " went unnoticed";
    }
  }
}

TEST(ChecksummedStreamTest, ACorruptLengthIsCaughtWithoutWaitingForItsBytes) {
  KjLoop kj;
  auto payload = patterned(40);
  kj::ArrayPtr<const kj::byte> writes[] = {payload.asPtr()};
  auto raw = framesOf(kj, writes);
  raw[2] ^= 0x01;  // length 40 -> 65576: within the maximum, so only the header CRC can tell
  auto pipe = kj::newTwoWayPipe();
  ChecksummedStream reader(*pipe.ends[1]);
  auto writing = pipe.ends[0]->write(raw.begin(), ChecksummedStream::kHeaderBytes);
  char buffer[64];
  auto reading = reader.tryRead(buffer, 1, sizeof(buffer));
  ASSERT_TRUE(reading.poll(kj.waitScope)) << "the reader must not wait for 65576 bytes";
  kj::Maybe<kj::Exception> error =
      kj::runCatchingExceptions([&]() { reading.wait(kj.waitScope); });
  ASSERT_TRUE(error != nullptr);
  ASSERT_TRUE(reader.corruption().has_value());
  EXPECT_NE(reader.corruption()->find("header CRC32C mismatch"), std::string::npos)
      << *reader.corruption();
  // The failure is sticky.
  error = kj::runCatchingExceptions([&]() { reader.tryRead(buffer, 1, 1).wait(kj.waitScope); });
  EXPECT_TRUE(error != nullptr);
}

TEST(ChecksummedStreamTest, ZeroBytesAndTruncationAreToldApart) {
  KjLoop kj;
  auto zeros = kj::heapArray<kj::byte>(ChecksummedStream::kHeaderBytes + 8);
  std::memset(zeros.begin(), 0, zeros.size());
  ReadOutcome zeroed = replay(kj, zeros);
  EXPECT_TRUE(zeroed.error != nullptr);
  EXPECT_TRUE(zeroed.corruption.has_value()) << "an all-zero header fails its CRC";

  auto payload = patterned(40);
  kj::ArrayPtr<const kj::byte> writes[] = {payload.asPtr()};
  auto raw = framesOf(kj, writes);
  ReadOutcome truncated = replay(kj, raw.slice(0, raw.size() - 5));
  KJ_IF_MAYBE(error, truncated.error) {
    EXPECT_EQ(error->getType(), kj::Exception::Type::DISCONNECTED);
    EXPECT_NE(std::string(error->getDescription().cStr()).find("truncated"), std::string::npos);
  } else {
    ADD_FAILURE() << "a truncated frame went unnoticed";
  }
  EXPECT_FALSE(truncated.corruption.has_value()) << "truncation is not corruption";
  ReadOutcome empty = replay(kj, raw.slice(0, 0));
  EXPECT_TRUE(empty.error == nullptr) << "a clean end of stream between frames";
  EXPECT_EQ(empty.data.size(), 0u);
}

}  // namespace
}  // namespace moonpool
