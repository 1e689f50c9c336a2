// Bug 3 of the corpus: a torn append recovered as committed (examples/bugs).
//
// Protocol. A log server ("log-1") appends client records to one preallocated segment file
// (kSegmentBytes of zeros, made durable at first boot, as logs do to keep appends from
// changing the file's size). A record is [length u32][crc32 u32][payload]; a zero length
// marks the end. An append writes the record in place at the end, syncs, then replies, so
// an acknowledged record is durable. At boot the server scans the segment to find the end.
//
// The planted mistake (--variant=buggy): recovery trusts a record's length without checking
// its checksum. A crash during an append's sync can tear it: a prefix of its sectors reaches
// the disk and the rest of the record still reads as the preallocated zeros. The scan takes
// that record as committed, and the log now holds bytes no client wrote. Fixed: recovery
// stops at the first record whose checksum does not match and zeroes the rest. Fault: a
// crash inside the sync window of an append that spans sectors, torn (crashTear).
//
// Client: appends records seq = 1, 2, ... (payload: seq and a pattern of a length derived
// from seq, so any record can be checked on its own), retrying until acknowledged. Check,
// after settling: every record in the log is one the client wrote, and every acknowledged
// seq is there.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bug_main.h"
#include "moonpool/assertions.h"
#include "moonpool/runner/workload.h"
#include "moonpool/sync.h"
#include "wire.h"

namespace moonpool::examples::bugs {
namespace {

constexpr std::uint16_t kPort = 7200;
constexpr std::uint64_t kSegmentBytes = 256 * 1024;
constexpr std::uint32_t kHeaderBytes = 8;
constexpr std::uint32_t kPayloadMax = 1024;
constexpr char kAppend = 'A', kDump = 'D';
constexpr Duration kRetryDelay = std::chrono::milliseconds(50);
constexpr DurationRange kAppendGap{std::chrono::milliseconds(10), std::chrono::milliseconds(40)};

// The payload of record `seq`: seq, then a pattern of a length that varies with seq.
std::string payloadOf(std::uint64_t seq) {
  std::string pattern(40 + (seq * 37) % 700, '\0');
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    pattern[i] = static_cast<char>('a' + (seq + i) % 26);
  }
  return Record().u64(seq).text(pattern).bytes();
}

// The seq a payload claims, if the payload is exactly what payloadOf(seq) makes.
std::optional<std::uint64_t> seqOf(const std::string& payload) {
  Reader r(payload);
  const std::uint64_t seq = r.u64();
  if (r.failed() || payloadOf(seq) != payload) return std::nullopt;
  return seq;
}

struct LogServer {
  LogServer(Providers p, Variant v) : providers(p), variant(v) {}
  Providers providers;
  Variant variant;
  std::unique_ptr<File> file{};
  std::uint64_t end = 0;
  std::vector<std::string> records{};
  Mutex mutex{};
};

// Reads the record at `offset`, or nothing at the end of the log.
Task<std::optional<std::string>> readRecord(LogServer& s, std::uint64_t offset) {
  if (offset + kHeaderBytes > kSegmentBytes) co_return std::nullopt;
  std::string header(kHeaderBytes, '\0');
  auto view = std::as_writable_bytes(std::span<char>(header.data(), header.size()));
  IoResult<std::size_t> got = co_await s.file->read(offset, view);
  if (!got.ok() || *got != kHeaderBytes) co_return std::nullopt;
  Reader r(header);
  const std::uint32_t length = r.u32();
  const std::uint32_t crc = r.u32();
  if (length == 0 || length > kPayloadMax || offset + kHeaderBytes + length > kSegmentBytes) {
    co_return std::nullopt;
  }
  std::string payload(length, '\0');
  auto body = std::as_writable_bytes(std::span<char>(payload.data(), payload.size()));
  got = co_await s.file->read(offset + kHeaderBytes, body);
  if (!got.ok() || *got != length) co_return std::nullopt;
  // The mistake: the buggy scan believes any length that fits.
  if (s.variant == Variant::kFixed && crc32(payload) != crc) co_return std::nullopt;
  co_return payload;
}

Task<void> recover(LogServer& s) {
  StorageProvider& disk = s.providers.storage();
  s.file = (co_await disk.open("segment", OpenMode::kCreate)).orThrow();
  if ((co_await s.file->size()).orThrow() < kSegmentBytes) {
    (co_await s.file->truncate(kSegmentBytes)).orThrow();
    (co_await s.file->sync()).orThrow();
  }
  for (;;) {
    std::optional<std::string> record = co_await readRecord(s, s.end);
    if (!record) break;
    s.end += kHeaderBytes + record->size();
    s.records.push_back(std::move(*record));
  }
  // Zero what follows the end (a torn tail), so the next append starts from a clean slate.
  const std::string zeros(kHeaderBytes + kPayloadMax, '\0');
  (co_await s.file->write(s.end, asBytes(zeros))).orThrow();
  (co_await s.file->sync()).orThrow();
  MOONPOOL_SOMETIMES(!s.records.empty(), "the log server recovers records at boot");
}

// Appends one payload; false when it failed (nothing acknowledged).
Task<bool> append(LogServer& s, std::string payload) {
  Mutex::Guard guard = co_await s.mutex.lock();
  if (s.end + kHeaderBytes + payload.size() + kHeaderBytes > kSegmentBytes) co_return false;
  const std::string record =
      Record().u32(static_cast<std::uint32_t>(payload.size())).u32(crc32(payload)).bytes() +
      payload;
  if (!(co_await s.file->write(s.end, asBytes(record))).ok()) co_return false;
  if (!(co_await s.file->sync()).ok()) co_return false;
  s.end += record.size();
  s.records.push_back(std::move(payload));
  co_return true;
}

Task<void> serveClient(std::shared_ptr<LogServer> s, std::unique_ptr<Connection> connection) {
  for (;;) {
    std::optional<std::string> request = co_await readFrame(*connection);
    if (!request || request->empty()) co_return;
    if ((*request)[0] == kDump) {
      for (std::size_t i = 0; i < s->records.size(); ++i) {
        if (!(co_await writeFrame(*connection, s->records[i])).ok()) co_return;
      }
      (void)co_await writeFrame(*connection, "");
      co_return;
    }
    if ((*request)[0] != kAppend || request->size() > kPayloadMax + 1) co_return;
    const bool ok = co_await append(*s, request->substr(1));
    if (!ok) co_return;
    if (!(co_await writeFrame(*connection, Record().u8(1).bytes())).ok()) co_return;
  }
}

struct Handler {
  std::shared_ptr<LogServer> server;
  [[clang::coro_wrapper]] Task<void> operator()(std::unique_ptr<Connection> connection) const {
    return serveClient(server, std::move(connection));
  }
};

Task<void> runServer(Providers p, Variant variant) {
  auto s = std::make_shared<LogServer>(p, variant);
  co_await recover(*s);
  co_await serve(p, kPort, Handler{s});
}

struct ServerMain {
  Variant variant;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& ctx) const {
    return runServer(ctx.providers(), variant);
  }
};

// ---- client ----------------------------------------------------------------------------------

struct Appended {
  std::set<std::uint64_t> acknowledged{};
};

Task<bool> appendOnce(Providers p, NetAddress server, std::unique_ptr<Connection>& connection,
                      std::uint64_t seq) {
  if (!connection) connection = co_await dial(p.network(), server);
  if (!connection) co_return false;
  std::optional<std::string> reply =
      co_await call(*connection, std::string(1, kAppend) + payloadOf(seq));
  if (!reply) connection.reset();
  co_return reply.has_value();
}

Task<void> runClient(WorkloadContext& ctx) {
  Providers p = ctx.providers();
  const NetAddress server{ipOf(ctx.process().peers(), "log-1"), kPort};
  std::unique_ptr<Connection> connection;
  for (std::uint64_t seq = 1; !ctx.chaosOver().isSet(); ++seq) {
    while (!co_await appendOnce(p, server, connection, seq)) {
      if (ctx.chaosOver().isSet()) co_return;  // seq stays unacknowledged
      co_await p.time().sleep(kRetryDelay);
    }
    ctx.state<Appended>().acknowledged.insert(seq);
    co_await p.time().sleep(p.random().durationIn(kAppendGap));
  }
}

Task<CheckResult> checkLog(WorkloadContext& ctx) {
  Providers p = ctx.providers();
  const NetAddress server{ipOf(ctx.process().peers(), "log-1"), kPort};
  std::unique_ptr<Connection> connection = co_await dial(p.network(), server);
  MOONPOOL_CHECK(connection != nullptr, "the log server is up after settling");
  (co_await writeFrame(*connection, std::string(1, kDump))).orThrow();
  std::set<std::uint64_t> found;
  CheckResult result;
  for (;;) {
    std::optional<std::string> record = co_await readFrame(*connection);
    MOONPOOL_CHECK(record.has_value(), "the dump ends with an empty frame");
    if (record->empty()) break;
    const std::optional<std::uint64_t> seq = seqOf(*record);
    MOONPOOL_ALWAYS(seq.has_value(), "every record in the log is one a client appended");
    if (!seq) {
      result.violations.push_back("the log holds a record no client wrote (" +
                                  std::to_string(record->size()) + " bytes)");
      continue;
    }
    found.insert(*seq);
  }
  for (std::uint64_t seq : ctx.state<Appended>().acknowledged) {
    MOONPOOL_ALWAYS(found.count(seq) == 1, "every acknowledged append is in the log");
    if (found.count(seq) == 0) {
      result.violations.push_back("acknowledged seq " + std::to_string(seq) + " is lost");
    }
  }
  ctx.addMetric("records", static_cast<std::int64_t>(found.size()));
  co_return result;
}

ChaosOptions chaos() {
  StorageOptions disk = StorageOptions::quiet();
  disk.syncLatency = LatencyModel::uniform(std::chrono::milliseconds(1),
                                           std::chrono::milliseconds(5));
  disk.faults.crashTear = Probability{0.5};
  AttritionOptions attrition;
  attrition.weightGraceful = 0;
  attrition.weightCrash = 1;
  attrition.weightWipe = 0;  // a wiped log loses acknowledged records in every variant
  attrition.interval = {std::chrono::milliseconds(500), std::chrono::seconds(2)};
  attrition.recovery = {std::chrono::milliseconds(100), std::chrono::milliseconds(500)};
  attrition.pauseProbability = Probability{0};
  return ChaosOptions{.network = FaultProfile::kQuiet,
                      .storage = FaultProfile::kGiven,
                      .givenStorage = disk,
                      .attrition = Attrition::kOn,
                      .attritionOptions = attrition};
}

SimulationBuilder makeBuilder(Variant variant) {
  SimulationBuilder builder("torn_append");
  builder.processes(1, "log", ServerMain{variant})
      .workload(Workload{.name = "client", .run = runClient, .check = checkLog})
      .chaos(chaos())
      .chaosDuration(std::chrono::seconds(8))
      .settleDuration(std::chrono::seconds(1));
  return builder;
}

}  // namespace
}  // namespace moonpool::examples::bugs

int main(int argc, char** argv) {
  namespace bugs = moonpool::examples::bugs;
  return bugs::runBugMain(argc, argv, bugs::makeBuilder, bugs::BugDefaults{.seeds = 1000});
}
