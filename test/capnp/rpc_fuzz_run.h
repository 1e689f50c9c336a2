// Running the RpcServer fuzz cases (rpc_fuzz_cases.h): one RpcServer on RealRuntime over
// 127.0.0.1, the cases one at a time on raw TCP connections, each wait under a deadline, then
// a well-behaved client; runFuzz checks every case's report and the server's counters.
#pragma once

#include <capnp/message.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/real/real_executor.h"
#include "rpc_fuzz_cases.h"
#include "rpc_testing.h"

namespace moonpool::rpc_fuzz_testing {

// Strips checksummed frames (the server's answer); stops at the first incomplete frame.
inline std::string unframed(const std::string& wire) {
  std::string out;
  std::size_t at = 0;
  while (wire.size() - at >= kFrameHeaderBytes) {
    const std::uint32_t length = loadLe32(wire, at);
    if (wire.size() - at - kFrameHeaderBytes < length) break;
    out += wire.substr(at + kFrameHeaderBytes, length);
    at += kFrameHeaderBytes + length;
  }
  return out;
}

// The text of the server's Return to kCallQuestion, once `bytes` hold it.
inline std::optional<std::string> echoAnswer(const std::string& bytes) {
  std::size_t at = 0;
  while (bytes.size() - at >= kFirstWordBytes) {
    kj::Array<::capnp::word> words = kj::heapArray<::capnp::word>((bytes.size() - at) / kWordBytes);
    std::memcpy(words.begin(), bytes.data() + at, words.size() * kWordBytes);
    const std::size_t size = ::capnp::expectedSizeInWordsFromPrefix(words);
    if (size > words.size()) return std::nullopt;
    ::capnp::FlatArrayMessageReader reader(words.slice(0, size));
    auto root = reader.getRoot<RpcMessage>();
    if (root.isReturn() && root.getReturn().getAnswerId() == kCallQuestion &&
        root.getReturn().isResults()) {
      auto results = root.getReturn().getResults().getContent().getAs<Echo::EchoResults>();
      return std::string(results.getText().cStr());
    }
    at += size * kWordBytes;
  }
  return std::nullopt;
}

// --- running -------------------------------------------------------------------------------

struct CaseOutcome {
  bool ended = false;  // read end of stream or an error: the connection is over
  std::optional<std::string> answer;
  std::size_t receivedBytes = 0;
  std::optional<DisconnectReport> report;
};

struct FuzzRun {
  Framing framing = Framing::kPlain;
  std::vector<CaseOutcome> outcomes;
  std::vector<DisconnectReport> reports;
  std::vector<std::string> normalAnswers;
  std::size_t openAfter = SIZE_MAX;
  std::uint64_t acceptedAfter = 0;
  std::array<std::uint64_t, rpc::kDisconnectCauseCount> serverCounts{};
  bool stillServing = false;
  EchoStats stats;
};

enum class ReadUntil : std::uint8_t { kEchoAnswer, kEndOfStream };

// Reads until the connection ends, or until the echo answer arrived.
inline Task<void> readFromServer(Connection& connection, Framing framing, std::string* received,
                                 CaseOutcome* outcome, ReadUntil until) {
  std::array<std::byte, 4096> buffer;
  for (;;) {
    IoResult<std::size_t> got = co_await connection.read(buffer);
    if (!got.ok() || *got == 0) {
      outcome->ended = true;
      co_return;
    }
    outcome->receivedBytes += *got;
    if (received->size() < kReceivedBytesMax) {
      received->append(reinterpret_cast<const char*>(buffer.data()), *got);
    }
    if (until == ReadUntil::kEchoAnswer) {
      outcome->answer = echoAnswer(framing == Framing::kPlain ? *received : unframed(*received));
      if (outcome->answer) co_return;
    }
  }
}

// Writes `bytes` at once, or in pieces of c.chunkBytes with a pause between them. A server
// that hangs up early makes writes fail (reset, broken pipe): that is fine.
inline Task<void> send(Providers p, Connection& connection, const FuzzCase& c,
                       const std::string& bytes) {
  if (c.chunkBytes == 0) {
    static_cast<void>(co_await connection.writeAll(asBytes(bytes)));
    co_return;
  }
  for (std::size_t at = 0; at < bytes.size(); at += c.chunkBytes) {
    if (at > 0) co_await p.time().sleep(kChunkPause);
    IoResult<void> sent = co_await connection.writeAll(asBytes(bytes.substr(at, c.chunkBytes)));
    if (!sent.ok()) co_return;
  }
}

inline Task<void> runCase(Providers p, NetAddress server, Framing framing, const FuzzCase* c,
                          CaseOutcome* outcome) {
  std::unique_ptr<Connection> connection = (co_await p.network().connect(server)).orThrow();
  std::string received;
  co_await send(p, *connection, *c, c->wire);
  if (!c->afterReply.empty()) {
    co_await readFromServer(*connection, framing, &received, outcome, ReadUntil::kEchoAnswer);
    co_await send(p, *connection, *c, c->afterReply);
  }
  if (c->ending == Ending::kHalfClose) static_cast<void>(connection->shutdownWrite());
  co_await readFromServer(*connection, framing, &received, outcome, ReadUntil::kEndOfStream);
}

// The server delivers its report once its side of the connection is torn down, which may
// trail the end of stream we read.
inline Task<void> awaitReport(TimeProvider& time, const FuzzRun* run, std::size_t count) {
  while (run->reports.size() < count) co_await time.sleep(kPollInterval);
}

inline Task<void> callNormally(Providers p, NetAddress address, Framing framing, FuzzRun* run) {
  rpc::RpcOptions options;
  options.framing = framing;
  auto client = (co_await rpc::RpcClient::connect(p.network(), address, options)).orThrow();
  Echo::Client echo = client->bootstrap().castAs<Echo>();
  for (const char* text : {"after the fuzz", "", "still serving"}) {
    run->normalAnswers.push_back(co_await callEcho(echo, text));
  }
}

inline Task<void> awaitNoConnections(TimeProvider& time, const rpc::RpcServer* server) {
  while (server->openConnections() != 0) co_await time.sleep(kPollInterval);
}

inline Task<void> fuzzMain(Providers p, const std::vector<FuzzCase>* cases, FuzzRun* run) {
  rpc::RpcOptions options;
  options.framing = run->framing;
  options.traversalLimitWords = kTraversalLimitWords;
  options.onDisconnect = [run](const DisconnectReport& r) { run->reports.push_back(r); };
  auto server = rpc::RpcServer::listen(p.network(), p.time(), NetAddress{kLoopbackIp, 0},
                                         kj::heap<EchoImpl>(p.time(), &run->stats), options)
                    .orThrow();
  const NetAddress address = server->localAddress();
  JoinHandle<void> serving = p.tasks().spawn("serve", server->serve());
  for (const FuzzCase& c : *cases) {
    CaseOutcome& outcome = run->outcomes.emplace_back();
    const std::size_t index = run->outcomes.size() - 1;
    const bool ended = co_await tryWithin(
        p.time(), kCaseDeadline, runCase(p, address, run->framing, &c, &outcome));
    const bool reported = ended && co_await tryWithin(p.time(), kCaseDeadline,
                                                      awaitReport(p.time(), run, index + 1));
    // Wedged: the test fails on this case (later reports would no longer line up).
    if (!reported) break;
    outcome.report = run->reports[index];
  }
  co_await within(p.time(), kCaseDeadline, callNormally(p, address, run->framing, run),
                  "the well-behaved client");
  static_cast<void>(co_await tryWithin(p.time(), kCaseDeadline,
                                       awaitNoConnections(p.time(), server.get())));
  run->openAfter = server->openConnections();
  run->acceptedAfter = server->acceptedConnections();
  for (std::size_t i = 0; i < rpc::kDisconnectCauseCount; ++i) {
    run->serverCounts[i] = server->disconnects(static_cast<DisconnectCause>(i));
  }
  run->stillServing = !serving.done();
  serving.cancel();
}

inline std::string causeNames(CauseSet set) {
  std::string out;
  for (std::size_t i = 0; i < rpc::kDisconnectCauseCount; ++i) {
    if ((set & (1u << i)) == 0) continue;
    out += (out.empty() ? "" : " | ") +
           std::string(rpc::disconnectCauseName(static_cast<DisconnectCause>(i)));
  }
  return out;
}

inline void checkCase(const FuzzCase& c, const CaseOutcome& outcome, std::size_t index,
                      std::map<std::string, std::size_t>* seen) {
  SCOPED_TRACE("case " + std::to_string(index) + " (" + c.kind + ", " +
               std::to_string(c.wire.size()) + " bytes)");
  ASSERT_TRUE(outcome.ended) << "the connection did not end within the deadline";
  ASSERT_TRUE(outcome.report.has_value()) << "no disconnect report within the deadline";
  const DisconnectReport& report = *outcome.report;
  EXPECT_FALSE(report.reason.empty()) << report.toString();
  EXPECT_NE(c.allowed & causeBit(report.cause), 0u)
      << report.toString() << "; expected " << causeNames(c.allowed);
  EXPECT_NE(report.reason.find(c.reasonHas), std::string::npos)
      << report.toString() << "; expected a reason containing '" << c.reasonHas << "'";
  if (!c.afterReply.empty()) EXPECT_EQ(outcome.answer, c.echoed) << "the echo answer";
  ++(*seen)[c.kind + ": " + std::string(rpc::disconnectCauseName(report.cause))];
}

// Whether the cases must between them end connections for every cause the framing can
// produce (a fuzz budget must; a list of valid conversations cannot).
enum class Causes : std::uint8_t { kEvery, kAny };

// Runs `cases` (made for `framing`) against one server, then checks every case and the server.
inline void runFuzz(Framing framing, const std::vector<FuzzCase>& cases,
                    Causes causes = Causes::kEvery) {
  RealRuntime runtime(RealRuntimeOptions{.storageRoot = ::testing::TempDir() + "rpc-fuzz",
                                         .localIp = kLoopbackIp});
  FuzzRun run;
  run.framing = framing;
  RunOutcome outcome = runtime.run(fuzzMain(runtime.providers(), &cases, &run));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  ASSERT_EQ(run.outcomes.size(), cases.size()) << "a case wedged the server";
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < cases.size(); ++i) checkCase(cases[i], run.outcomes[i], i, &seen);

  EXPECT_EQ(run.normalAnswers,
            (std::vector<std::string>{"after the fuzz", "", "still serving"}));
  EXPECT_TRUE(run.stillServing) << "serve() kept accepting through the fuzz";
  EXPECT_EQ(run.openAfter, 0u) << "connections left open";
  EXPECT_EQ(run.acceptedAfter, cases.size() + 1);
  ASSERT_EQ(run.reports.size(), cases.size() + 1) << "one report per connection";
  EXPECT_EQ(run.reports.back().cause, DisconnectCause::kClosed) << run.reports.back().toString();
  std::array<std::uint64_t, rpc::kDisconnectCauseCount> reported{};
  for (const DisconnectReport& r : run.reports) ++reported[static_cast<std::size_t>(r.cause)];
  EXPECT_EQ(reported, run.serverCounts) << "the server's counters match its reports";
  if (causes == Causes::kAny) return;
  // The budget reaches every cause the framing can produce.
  for (DisconnectCause cause : {DisconnectCause::kClosed, DisconnectCause::kIoError,
                                DisconnectCause::kProtocolError, DisconnectCause::kPeerAborted}) {
    EXPECT_GT(reported[static_cast<std::size_t>(cause)], 0u) << rpc::disconnectCauseName(cause);
  }
  const std::size_t corrupted = reported[static_cast<std::size_t>(DisconnectCause::kCorrupted)];
  EXPECT_EQ(corrupted > 0, framing == Framing::kChecksummed);
  std::string summary;
  for (const auto& [name, count] : seen) summary += name + " = " + std::to_string(count) + "; ";
  ::testing::Test::RecordProperty("causes by kind", summary);
}

}  // namespace moonpool::rpc_fuzz_testing
