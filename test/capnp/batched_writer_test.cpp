// Goal: the connection's outgoing messages are gathered into few writes without changing a
// byte of the stream, without unbounded memory and without starving on a busy loop: the
// messages of one turn leave in one write, in order and framed as Cap'n Proto frames them;
// a message over kCopyBytesMax is written from the caller's memory and reported written
// only once it is; while a write is in flight writers wait and the next batch follows; a
// failed write (or a stream that throws) fails everything after it and is reported once; a
// loop whose queue never empties still gets the batch out; flushed() waits for the last
// byte; destroying the writer mid-write leaves no promise hanging.
// Method: BatchedWriter (capnp/src, private) over a recording KJ output stream on a bare KJ
// event loop; the stream can hold a write open or fail it.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <kj/async.h>

#include <memory>
#include <string>
#include <vector>

#include "batched_writer.h"
#include "watched_message_stream.h"
#include "echo.capnp.h"

namespace moonpool::rpc::internal {
namespace {

class RecordingStream final : public kj::AsyncOutputStream {
 public:
  // implements kj::AsyncOutputStream
  kj::Promise<void> write(const void* buffer, size_t size) override {
    kj::ArrayPtr<const kj::byte> piece(static_cast<const kj::byte*>(buffer), size);
    return write(kj::arrayPtr(&piece, 1));
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    ++writes;
    if (throwNow) kj::throwFatalException(KJ_EXCEPTION(FAILED, "the stream threw"));
    KJ_IF_MAYBE(error, failWith) { return kj::cp(*error); }
    for (const auto& piece : pieces) bytes.append(piece.asChars().begin(), piece.size());
    if (!hold) return kj::READY_NOW;
    auto paf = kj::newPromiseAndFulfiller<void>();
    held = kj::mv(paf.fulfiller);
    return kj::mv(paf.promise);
  }
  kj::Promise<void> whenWriteDisconnected() override { return kj::NEVER_DONE; }

  void release() {
    KJ_IF_MAYBE(fulfiller, held) { (*fulfiller)->fulfill(); }
    held = nullptr;
  }

  std::string bytes;
  int writes = 0;
  bool hold = false;
  bool throwNow = false;
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> held;
  kj::Maybe<kj::Exception> failWith;
};

// A message holding `text`, and its bytes as Cap'n Proto's stream framing has them.
struct Message {
  // `firstSegmentWords` small: the text lands in a segment of its own (two segments).
  explicit Message(const std::string& text, unsigned firstSegmentWords = 1024)
      : builder(firstSegmentWords, ::capnp::AllocationStrategy::FIXED_SIZE) {
    builder.initRoot<Echo::EchoParams>().setText(text);
    auto flat = ::capnp::messageToFlatArray(builder);
    framed.assign(flat.asChars().begin(), flat.asChars().size());
  }
  kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments() {
    return builder.getSegmentsForOutput();
  }
  ::capnp::MallocMessageBuilder builder;
  std::string framed;
};

class BatchedWriterTest : public ::testing::Test {
 protected:
  // KJ's types may throw from their destructors; a fixture's may not (one that did would
  // end the test binary, as it should).
  ~BatchedWriterTest() noexcept override {}

  kj::EventLoop loop_;  // first: destroyed after everything that queues events on it
  kj::WaitScope waitScope_{loop_};
  RecordingStream stream_;
  std::vector<std::string> failures_;
  int written_ = 0;
  BatchedWriter writer_{
      stream_,
      [this](const kj::Exception& error) { failures_.emplace_back(error.getDescription().cStr()); },
      [this]() { ++written_; }};
};

TEST_F(BatchedWriterTest, TheMessagesOfOneTurnLeaveInOneWriteInOrder) {
  Message a("first"), b(std::string(500, 'b')), c("");
  kj::Promise<void> pa = writer_.write(a.segments());
  kj::Promise<void> pb = writer_.write(b.segments());
  kj::Promise<void> pc = writer_.write(c.segments());
  // Reported written at once: the batch holds copies.
  EXPECT_TRUE(pa.poll(waitScope_));
  EXPECT_TRUE(pc.poll(waitScope_));
  waitScope_.poll();
  EXPECT_EQ(stream_.writes, 1);
  EXPECT_EQ(stream_.bytes, a.framed + b.framed + c.framed);
  EXPECT_EQ(writer_.heldBytes(), 0u);
  EXPECT_EQ(written_, 1);
}

TEST_F(BatchedWriterTest, MessagesOfSeveralSegmentsAreFramedAsCapnProtoFramesThem) {
  Message copied(std::string(300, 'c'), 2);
  Message large(std::string(BatchedWriter::kCopyBytesMax, 'L'), 2);
  Message three(std::string(100, 't'), 1);
  ASSERT_GE(copied.segments().size(), 2u);
  ASSERT_GE(large.segments().size(), 2u);
  kj::Promise<void> p1 = writer_.write(copied.segments());
  kj::Promise<void> p2 = writer_.write(large.segments());
  kj::Promise<void> p3 = writer_.write(three.segments());
  p1.wait(waitScope_);
  p2.wait(waitScope_);
  p3.wait(waitScope_);
  EXPECT_EQ(stream_.bytes, copied.framed + large.framed + three.framed);
}

TEST_F(BatchedWriterTest, PastTheBatchCapWritersWaitForTheWrite) {
  stream_.hold = true;
  std::vector<std::unique_ptr<Message>> messages;
  std::vector<kj::Promise<void>> promises;
  std::size_t bytes = 0;
  while (bytes <= BatchedWriter::kBatchBytesMax) {
    messages.push_back(std::make_unique<Message>(std::string(1000, 'x')));
    bytes += messages.back()->framed.size();
    promises.push_back(writer_.write(messages.back()->segments()));
  }
  for (std::size_t i = 0; i + 1 < promises.size(); ++i) {
    EXPECT_TRUE(promises[i].poll(waitScope_)) << "message " << i << " fits the batch";
  }
  EXPECT_FALSE(promises.back().poll(waitScope_)) << "the one past the cap waits";
  stream_.release();
  promises.back().wait(waitScope_);
  std::string all;
  for (const auto& m : messages) all += m->framed;
  EXPECT_EQ(stream_.bytes, all);
}

TEST_F(BatchedWriterTest, ALargeMessageIsWrittenFromItsOwnMemoryAndWaitsForItsWrite) {
  stream_.hold = true;
  Message small("small"), large(std::string(BatchedWriter::kCopyBytesMax + 100, 'L'));
  kj::Promise<void> ps = writer_.write(small.segments());
  kj::Promise<void> pl = writer_.write(large.segments());
  EXPECT_EQ(writer_.heldBytes(), small.framed.size()) << "only the small one was copied";
  EXPECT_FALSE(pl.poll(waitScope_)) << "the large one waits for its bytes to be written";
  EXPECT_EQ(stream_.writes, 1);
  stream_.release();
  EXPECT_TRUE(pl.poll(waitScope_));
  pl.wait(waitScope_);
  EXPECT_EQ(stream_.bytes, small.framed + large.framed);
}

TEST_F(BatchedWriterTest, WhileAWriteIsInFlightWritersWaitAndTheNextBatchFollows) {
  stream_.hold = true;
  Message first("first"), second("second"), third("third");
  writer_.write(first.segments()).wait(waitScope_);
  waitScope_.poll();
  ASSERT_EQ(stream_.writes, 1);
  kj::Promise<void> p2 = writer_.write(second.segments());
  kj::Promise<void> p3 = writer_.write(third.segments());
  EXPECT_FALSE(p2.poll(waitScope_)) << "no promise of a write while one is in flight";
  EXPECT_EQ(writer_.heldBytes(), first.framed.size() + second.framed.size() +
                                     third.framed.size());
  stream_.release();  // the first write completes: the waiting batch goes out in one write
  waitScope_.poll();
  EXPECT_EQ(stream_.writes, 2);
  stream_.release();
  p2.wait(waitScope_);
  p3.wait(waitScope_);
  EXPECT_EQ(stream_.bytes, first.framed + second.framed + third.framed);
  EXPECT_EQ(writer_.heldBytes(), 0u);
}

TEST_F(BatchedWriterTest, AFailedWriteFailsEverythingAfterItAndIsReportedOnce) {
  stream_.failWith = KJ_EXCEPTION(DISCONNECTED, "the peer reset the connection");
  Message a("a"), b("b");
  writer_.write(a.segments()).wait(waitScope_);  // copied: reported written before the write
  waitScope_.poll();
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("reset the connection"), std::string::npos) << failures_[0];
  kj::Promise<void> later = writer_.write(b.segments());
  EXPECT_THROW(later.wait(waitScope_), kj::Exception);
  EXPECT_THROW(writer_.flushed().wait(waitScope_), kj::Exception);
  EXPECT_EQ(failures_.size(), 1u) << "reported once";
  EXPECT_EQ(stream_.writes, 1) << "nothing is written after a failure";
}

TEST_F(BatchedWriterTest, ALoopWhoseQueueNeverEmptiesStillGetsTheBatchOut) {
  // Work that keeps requeueing itself, as a loaded server's loop does.
  bool busy = true;
  std::uint64_t spins = 0;
  kj::Function<kj::Promise<void>()> spin = [&]() -> kj::Promise<void> {
    if (!busy) return kj::READY_NOW;
    ++spins;
    return kj::evalLater([&]() { return spin(); });
  };
  kj::Promise<void> spinning = spin();
  Message a("under load");
  writer_.write(a.segments()).wait(waitScope_);
  constexpr unsigned kTurns = 64;
  loop_.run(kTurns);
  EXPECT_EQ(stream_.writes, 1) << "the batch left within " << kTurns << " turns";
  EXPECT_EQ(stream_.bytes, a.framed);
  EXPECT_GT(spins, 1u) << "the busy work kept running";
  busy = false;
  spinning.wait(waitScope_);
}

TEST_F(BatchedWriterTest, AStreamThatThrowsFailsTheBatchLikeAFailedWrite) {
  stream_.throwNow = true;
  Message a("a");
  writer_.write(a.segments()).wait(waitScope_);
  waitScope_.poll();
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("the stream threw"), std::string::npos) << failures_[0];
  EXPECT_THROW(writer_.flushed().wait(waitScope_), kj::Exception);
}

TEST_F(BatchedWriterTest, FlushedWhileAWriteIsInFlightWaitsForTheBatchBehindIt) {
  stream_.hold = true;
  Message a("a"), b("b");
  writer_.write(a.segments()).wait(waitScope_);
  waitScope_.poll();
  kj::Promise<void> pb = writer_.write(b.segments());
  kj::Promise<void> flushed = writer_.flushed();
  stream_.release();  // a is written; b goes out at once, and flushed() waits for it
  waitScope_.poll();
  EXPECT_EQ(stream_.writes, 2);
  EXPECT_FALSE(flushed.poll(waitScope_));
  stream_.release();
  flushed.wait(waitScope_);
  pb.wait(waitScope_);
  EXPECT_EQ(stream_.bytes, a.framed + b.framed);
}

TEST(BatchedWriterLifetimeTest, DestroyingTheWriterMidWriteCancelsCleanly) {
  kj::EventLoop loop;
  kj::WaitScope waitScope(loop);
  RecordingStream stream;
  stream.hold = true;
  Message a("a"), large(std::string(BatchedWriter::kCopyBytesMax + 8, 'L'));
  kj::Promise<void> pending = nullptr;
  {
    BatchedWriter writer(stream, [](const kj::Exception&) {}, []() {});
    writer.write(a.segments()).wait(waitScope);
    waitScope.poll();
    ASSERT_EQ(stream.writes, 1);
    pending = writer.write(large.segments());
  }  // destroyed with a write in flight and a writer waiting
  EXPECT_THROW(pending.wait(waitScope), kj::Exception);  // never a hang
  stream.release();  // the stream's promise was dropped with the writer: nothing runs
  waitScope.poll();
  EXPECT_EQ(stream.bytes, a.framed);
}

TEST_F(BatchedWriterTest, FlushedWaitsForTheLastByte) {
  stream_.hold = true;
  Message a("a");
  writer_.write(a.segments()).wait(waitScope_);
  kj::Promise<void> flushed = writer_.flushed();
  EXPECT_FALSE(flushed.poll(waitScope_));
  stream_.release();
  flushed.wait(waitScope_);
  EXPECT_EQ(stream_.bytes, a.framed);
  EXPECT_TRUE(writer_.flushed().poll(waitScope_)) << "nothing left to write";
}

// A connection whose writes fail while its read stays open (a TLS or framing layer can fail
// one side only); its owner's reset fails the pending read.
class HalfBrokenStream final : public kj::AsyncIoStream {
 public:
  // implements kj::AsyncInputStream
  kj::Promise<size_t> tryRead(void*, size_t, size_t) override {
    auto paf = kj::newPromiseAndFulfiller<size_t>();
    reader = kj::mv(paf.fulfiller);
    return kj::mv(paf.promise);
  }
  // implements kj::AsyncOutputStream
  kj::Promise<void> write(const void*, size_t) override {
    return KJ_EXCEPTION(FAILED, "the record layer refused the write");
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>>) override {
    return KJ_EXCEPTION(FAILED, "the record layer refused the write");
  }
  kj::Promise<void> whenWriteDisconnected() override { return kj::NEVER_DONE; }
  // implements kj::AsyncIoStream
  void shutdownWrite() override {}

  void reset() {
    KJ_IF_MAYBE(r, reader) { (*r)->reject(KJ_EXCEPTION(DISCONNECTED, "reset by its owner")); }
  }
  kj::Maybe<kj::Own<kj::PromiseFulfiller<size_t>>> reader;
};

TEST(WatchedMessageStreamTest, AFailedWriteEndsTheReadCapnProtoWaitsOn) {
  kj::EventLoop loop;
  kj::WaitScope waitScope(loop);
  HalfBrokenStream stream;
  WatchedMessageStream messages(stream, StreamLimits{.callsInFlightMax = 1,
                                                     .incomingBytesMax = 1 << 20,
                                                     .outgoingBytesMax = 1 << 20,
                                                     .budget = std::make_shared<RpcBudget>(),
                                                     .time = nullptr});
  int resets = 0;
  messages.onWriteFailure([&]() {
    ++resets;
    stream.reset();
  });
  auto reading = messages.tryReadMessage(nullptr, ::capnp::ReaderOptions(), nullptr);
  Message call("a call whose answer would never come");
  messages.writeMessage(nullptr, call.segments()).wait(waitScope);  // copied: reported sent
  EXPECT_THROW(reading.wait(waitScope), kj::Exception) << "the read fails instead of hanging";
  EXPECT_EQ(resets, 1);
  ASSERT_TRUE(messages.ending().has_value());
  EXPECT_EQ(messages.ending()->cause, DisconnectCause::kIoError);
  EXPECT_NE(messages.ending()->reason.find("refused the write"), std::string::npos)
      << messages.ending()->reason;
}

}  // namespace
}  // namespace moonpool::rpc::internal
