// Outgoing messages gathered into one write (see batched_writer.h).
#include "batched_writer.h"

#include <kj/debug.h>

#include <cstdint>
#include <cstring>
#include <utility>

namespace moonpool::rpc::internal {

namespace {

constexpr std::size_t kWordBytes = sizeof(::capnp::word);

// Cap'n Proto's stream framing of a message's segment table: the segment count minus one,
// then each segment's size in words, as 32-bit little-endian values padded to a word.
kj::Array<::capnp::word> segmentTable(
    kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments) {
  kj::Array<::capnp::word> table = kj::heapArray<::capnp::word>(segments.size() / 2 + 1);
  std::memset(table.begin(), 0, table.size() * kWordBytes);
  kj::byte* out = table.asBytes().begin();
  auto put = [&out](std::uint32_t value) {
    std::memcpy(out, &value, sizeof value);  // little-endian hosts only, as capnp's own
    out += sizeof value;
  };
  put(static_cast<std::uint32_t>(segments.size() - 1));
  for (const auto& segment : segments) put(static_cast<std::uint32_t>(segment.size()));
  return table;
}

// The same table, appended to `out`.
void appendTable(kj::Vector<kj::byte>& out,
                 kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments) {
  auto put = [&out](std::uint32_t value) {
    kj::byte bytes[sizeof value];
    std::memcpy(bytes, &value, sizeof value);
    out.addAll(bytes, bytes + sizeof value);
  };
  put(static_cast<std::uint32_t>(segments.size() - 1));
  for (const auto& segment : segments) put(static_cast<std::uint32_t>(segment.size()));
  if (segments.size() % 2 == 0) put(0);  // padding to a word
}

}  // namespace

BatchedWriter::BatchedWriter(kj::AsyncOutputStream& stream,
                             kj::Function<void(const kj::Exception&)> onFailure,
                             kj::Function<void()> onWritten)
    : stream_(stream),
      onFailure_(kj::mv(onFailure)),
      onWritten_(kj::mv(onWritten)),
      errors_(*this),
      tasks_(errors_) {}

void BatchedWriter::Batch::clear() {
  copy.clear();
  pieces.clear();
  waiters.clear();
  tables.clear();
  copiedBytes = 0;
}

void BatchedWriter::ErrorSink::taskFailed(kj::Exception&& exception) {
  writer_.fail(exception);  // flush() handles its own failures; anything else ends it too
}

kj::Promise<void> BatchedWriter::write(
    kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments) {
  KJ_REQUIRE(segments.size() > 0, "a message has at least one segment");
  KJ_IF_MAYBE(failed, failure_) { return kj::cp(*failed); }
  const bool copied = append(batch_, segments);
  scheduleFlush();
  if (copied && !inFlight_ && batch_.copiedBytes <= kBatchBytesMax) return kj::READY_NOW;
  return waitFor(batch_);
}

bool BatchedWriter::append(Batch& batch,
                           kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments) {
  std::size_t bytes = (segments.size() / 2 + 1) * kWordBytes;  // the segment table
  for (const auto& segment : segments) bytes += segment.size() * kWordBytes;
  if (bytes > kCopyBytesMax) {
    // Pointed at, not copied: the caller keeps the segments until the batch is written.
    kj::Array<::capnp::word> table = segmentTable(segments);
    batch.pieces.add(
        Piece{.copied = false, .copyOffset = 0, .size = 0, .external = table.asBytes()});
    batch.tables.add(kj::mv(table));
    for (const auto& segment : segments) {
      batch.pieces.add(
          Piece{.copied = false, .copyOffset = 0, .size = 0, .external = segment.asBytes()});
    }
    return false;
  }
  const std::size_t offset = batch.copy.size();
  batch.copy.reserve(offset + bytes);
  appendTable(batch.copy, segments);
  for (const auto& segment : segments) {
    const kj::ArrayPtr<const kj::byte> raw = segment.asBytes();
    batch.copy.addAll(raw.begin(), raw.end());
  }
  batch.copiedBytes += bytes;
  // Copies follow each other in `copy`, so consecutive ones make one piece.
  if (!batch.pieces.empty() && batch.pieces.back().copied) {
    batch.pieces.back().size += bytes;
  } else {
    batch.pieces.add(Piece{.copied = true, .copyOffset = offset, .size = bytes, .external = {}});
  }
  return true;
}

kj::Promise<void> BatchedWriter::waitFor(Batch& batch) {
  auto paf = kj::newPromiseAndFulfiller<void>();
  batch.waiters.add(kj::mv(paf.fulfiller));
  return kj::mv(paf.promise);
}

kj::Promise<void> BatchedWriter::flushed() {
  KJ_IF_MAYBE(failed, failure_) { return kj::cp(*failed); }
  if (!batch_.empty()) return waitFor(batch_);
  if (inFlight_) return waitFor(writing_);
  return kj::READY_NOW;
}

void BatchedWriter::scheduleFlush() {
  if (flushScheduled_ || inFlight_) return;  // a write in flight flushes again when done
  flushScheduled_ = true;
  tasks_.add(afterRounds(kFlushRounds));
}

kj::Promise<void> BatchedWriter::afterRounds(std::size_t rounds) {
  return kj::evalLater([this, rounds]() -> kj::Promise<void> {
    if (rounds <= 1) return flush();
    return afterRounds(rounds - 1);
  });
}

kj::Promise<void> BatchedWriter::flush() {
  flushScheduled_ = false;
  if (batch_.empty() || failure_ != nullptr) return kj::READY_NOW;
  std::swap(writing_, batch_);  // batch_ takes the last write's emptied buffers
  inFlight_ = true;
  auto pieces = kj::heapArray<kj::ArrayPtr<const kj::byte>>(writing_.pieces.size());
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const Piece& piece = writing_.pieces[i];
    pieces[i] = piece.copied ? kj::arrayPtr(writing_.copy.begin() + piece.copyOffset, piece.size)
                             : piece.external;
  }
  // evalNow: a stream that throws instead of failing its promise fails the batch all the same.
  kj::Promise<void> written = kj::evalNow([&]() { return stream_.write(pieces); });
  return written.attach(kj::mv(pieces))
      .then(
          [this]() {
            inFlight_ = false;
            for (auto& waiter : writing_.waiters) waiter->fulfill();
            writing_.clear();
            onWritten_();
            // What waited behind this write goes now: its writers are already waiting.
            if (!batch_.empty()) tasks_.add(flush());
          },
          [this](kj::Exception&& error) {
            inFlight_ = false;
            fail(error);
          });
}

void BatchedWriter::fail(const kj::Exception& error) {
  if (failure_ != nullptr) return;
  failure_ = kj::cp(error);
  for (Batch* batch : {&writing_, &batch_}) {
    for (auto& waiter : batch->waiters) waiter->reject(kj::cp(error));
    batch->clear();
  }
  onFailure_(error);
}

}  // namespace moonpool::rpc::internal
