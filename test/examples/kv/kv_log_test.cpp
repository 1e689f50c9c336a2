// Goal: the KV log trusts exactly the records it should: a torn tail is cut at the last
// complete record, a corrupt record stops the scan (nothing after it is trusted, even
// records that look fine), and what open() keeps survives a reopen and further appends.
// Method: parse hand-made images (cut at every byte, a flipped byte, impossible lengths);
// then open real files on a simulated disk (fast, fault-free) with garbage or torn tails,
// including a simulated crash that tears unsynced writes, and check sizes, entries and the
// chained hash. The promise file round-trips, survives one corrupt copy or a crash in the
// middle of a store, and refuses to load (DataLoss) when every copy is corrupt.
#include <gtest/gtest.h>

#include <map>

#include "kv_log.h"
#include "moonpool/sim/sim_storage.h"
#include "moonpool/combinators.h"
#include "moonpool/sim/simulation.h"

namespace moonpool::kv {
namespace {

std::vector<Entry> sampleEntries(std::size_t count) {
  std::vector<Entry> out;
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(Entry{"key-" + std::to_string(i % 3), i + 1, std::string(i * 5 % 23, 'v')});
  }
  return out;
}

TEST(KvLogParse, ACleanImageGivesEveryEntry) {
  const std::vector<Entry> entries = sampleEntries(10);
  ParsedLog parsed = parseLog(encodeRecords(entries, 0));
  EXPECT_EQ(parsed.entries, entries);
  EXPECT_EQ(parsed.scan.tail, LogScan::Tail::kClean);
  EXPECT_EQ(parsed.scan.bytesDropped, 0u);
  EXPECT_TRUE(parsed.scan.reason.empty());
}

TEST(KvLogParse, ATornTailIsCutAtTheLastCompleteRecord) {
  const std::vector<Entry> entries = sampleEntries(6);
  const Bytes image = encodeRecords(entries, 0);
  const std::vector<std::uint64_t> ends = parseLog(image).recordEnds;
  for (std::size_t cut = 0; cut <= image.size(); ++cut) {
    ParsedLog parsed = parseLog(std::span(image).first(cut));
    const auto complete = static_cast<std::size_t>(
        std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin());
    ASSERT_EQ(parsed.entries.size(), complete) << "cut at " << cut;
    EXPECT_EQ(parsed.scan.bytesKept, complete == 0 ? 0 : ends[complete - 1]);
    const bool atBoundary = parsed.scan.bytesKept == cut;
    EXPECT_EQ(parsed.scan.tail, atBoundary ? LogScan::Tail::kClean : LogScan::Tail::kTorn)
        << "cut at " << cut;
  }
}

TEST(KvLogParse, ACorruptRecordStopsTheScanAndNothingAfterItIsTrusted) {
  const std::vector<Entry> entries = sampleEntries(8);
  Bytes image = encodeRecords(entries, 0);
  const std::vector<std::uint64_t> ends = parseLog(image).recordEnds;
  image[ends[2] + KvLog::kRecordHeaderBytes + 1] ^= std::byte{0x04};  // inside record 3
  ParsedLog parsed = parseLog(image);
  EXPECT_EQ(parsed.entries, std::vector<Entry>(entries.begin(), entries.begin() + 3));
  EXPECT_EQ(parsed.scan.tail, LogScan::Tail::kCorrupt);
  EXPECT_EQ(parsed.scan.bytesKept, ends[2]);
  EXPECT_EQ(parsed.scan.bytesDropped, image.size() - ends[2]);
  EXPECT_NE(parsed.scan.reason.find("fails its checksum"), std::string::npos) << parsed.scan.reason;
}

TEST(KvLogParse, ARecordCopiedToAnotherPlaceFailsItsChecksum) {
  // A misdirected write can leave a complete copy of a record at another record boundary.
  // Entries of equal size make the boundaries line up: record 4's bytes over record 1's.
  std::vector<Entry> entries;
  for (std::uint64_t v = 1; v <= 6; ++v) entries.push_back(Entry{"k", v, "same-size"});
  Bytes image = encodeRecords(entries, 0);
  const std::vector<std::uint64_t> ends = parseLog(image).recordEnds;
  const std::uint64_t recordBytes = ends[0];
  std::copy(image.begin() + static_cast<std::ptrdiff_t>(ends[3]),
            image.begin() + static_cast<std::ptrdiff_t>(ends[4]),
            image.begin() + static_cast<std::ptrdiff_t>(ends[0]));
  ASSERT_EQ(ends[4] - ends[3], recordBytes);
  ParsedLog parsed = parseLog(image);
  EXPECT_EQ(parsed.entries, std::vector<Entry>(entries.begin(), entries.begin() + 1))
      << "the copy of entry 5 must not be trusted as entry 2";
  EXPECT_EQ(parsed.scan.tail, LogScan::Tail::kCorrupt);
}

TEST(KvLogParse, ImpossibleLengthsAndZeroFilledHolesStopTheScan) {
  Bytes image = encodeRecords(sampleEntries(2), 0);
  const std::size_t good = image.size();
  image.resize(good + 64, std::byte{0});  // a hole: length 0
  ParsedLog hole = parseLog(image);
  EXPECT_EQ(hole.entries.size(), 2u);
  EXPECT_EQ(hole.scan.tail, LogScan::Tail::kCorrupt);
  EXPECT_NE(hole.scan.reason.find("record length 0"), std::string::npos) << hole.scan.reason;

  Bytes huge = encodeRecords(sampleEntries(1), 0);
  huge[3] = std::byte{0x7f};  // length far above kEntryBytesMax
  ParsedLog bad = parseLog(huge);
  EXPECT_TRUE(bad.entries.empty());
  EXPECT_NE(bad.scan.reason.find("out of bounds"), std::string::npos) << bad.scan.reason;
}

// A simulated disk with no faults, and a way to run a Task on it.
struct Disk {
  Simulation sim{SimOptions{.seed = 3}};
  Timeline timeline{sim.executor()};
  SimStorage storage{sim.executor(), sim.random(), timeline, StorageOptions::quiet()};

  StorageProvider* node() { return &storage.disk("node"); }
  TimeProvider* time() { return &sim.providers().time(); }
  void run(Task<void> body) {
    RunOutcome outcome = sim.run(std::move(body));
    ASSERT_TRUE(outcome.ok()) << outcome.message;
  }
};

Task<void> writeRaw(StorageProvider* disk, Bytes bytes) {
  auto file = (co_await disk->open("kv.log", OpenMode::kCreateTruncate)).orThrow();
  (co_await file->write(0, bytes)).orThrow();
  (co_await file->sync()).orThrow();
}

Task<void> openAndCheck(StorageProvider* disk, TimeProvider* time, std::vector<Entry> expected,
                        std::uint64_t droppedExpected) {
  std::unique_ptr<KvLog> log = std::move(co_await KvLog::open(*disk, *time, "kv.log")).value();
  EXPECT_EQ(log->size(), expected.size());
  EXPECT_EQ(log->scan().bytesDropped, droppedExpected);
  for (std::size_t i = 0; i < expected.size() && i < log->size(); ++i) {
    EXPECT_EQ(log->at(i), expected[i]) << "entry " << i;
  }
  auto file = (co_await disk->open("kv.log", OpenMode::kOpenExisting)).orThrow();
  EXPECT_EQ((co_await file->size()).orThrow(), log->scan().bytesKept) << "the tail was truncated";
}

TEST(KvLogFile, OpenTruncatesAGarbageTailAndReopensClean) {
  Disk disk;
  const std::vector<Entry> entries = sampleEntries(5);
  Bytes image = encodeRecords(entries, 0);
  const std::size_t good = image.size();
  for (int i = 0; i < 30; ++i) image.push_back(static_cast<std::byte>(0xa5 ^ i));
  disk.run(writeRaw(disk.node(), image));
  disk.run(openAndCheck(disk.node(), disk.time(), entries, image.size() - good));
  disk.run(openAndCheck(disk.node(), disk.time(), entries, 0));
}

Task<void> appendThenReopen(StorageProvider* disk, TimeProvider* time) {
  const std::vector<Entry> entries = sampleEntries(7);
  {
    std::unique_ptr<KvLog> log = std::move(co_await KvLog::open(*disk, *time, "kv.log")).value();
    EXPECT_EQ(log->size(), 0u);
    EXPECT_TRUE((co_await log->append({entries.begin(), entries.begin() + 4})).ok());
    EXPECT_TRUE((co_await log->append({entries.begin() + 4, entries.end()})).ok());
    EXPECT_EQ(log->slice(5, 10), std::vector<Entry>(entries.begin() + 5, entries.end()));
  }
  std::unique_ptr<KvLog> again = std::move(co_await KvLog::open(*disk, *time, "kv.log")).value();
  EXPECT_EQ(again->size(), entries.size());
  // The chained hash is a function of the entries alone, whichever way they were written.
  std::uint64_t hash = kEmptyLogHash;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    Bytes payload;
    ByteWriter w(payload);
    encodeEntry(w, entries[i]);
    hash = chainHash(hash, payload);
    EXPECT_EQ(again->hashAt(i + 1), hash) << "after entry " << i;
  }
}

TEST(KvLogFile, AppendsSurviveAReopen) {
  Disk disk;
  disk.run(appendThenReopen(disk.node(), disk.time()));
}

Task<void> writeUnsyncedTail(StorageProvider* disk, TimeProvider* time, std::vector<Entry> synced,
                             std::vector<Entry> unsynced) {
  std::unique_ptr<KvLog> log = std::move(co_await KvLog::open(*disk, *time, "kv.log")).value();
  EXPECT_TRUE((co_await log->append(synced)).ok());
  // Write more records behind the log's back, without a sync: a crash tears them.
  auto file = (co_await disk->open("kv.log", OpenMode::kOpenExisting)).orThrow();
  const std::uint64_t end = (co_await file->size()).orThrow();
  (co_await file->write(end, encodeRecords(unsynced, end))).orThrow();
}

Task<void> reopen(StorageProvider* disk, TimeProvider* time, std::unique_ptr<KvLog>* out) {
  *out = std::move(co_await KvLog::open(*disk, *time, "kv.log")).value();
}

TEST(KvLogFile, ACrashTearsUnsyncedRecordsAndOpenKeepsTheSyncedPrefix) {
  int cut = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    Simulation sim(SimOptions{.seed = seed});
    Timeline timeline(sim.executor());
    StorageOptions options = StorageOptions::quiet();
    options.faults.crashTear = Probability{1.0};  // every unsynced write torn, never lost
    SimStorage storage(sim.executor(), sim.random(), timeline, options);
    const std::vector<Entry> entries = sampleEntries(80);  // the tail spans several sectors
    const std::vector<Entry> synced(entries.begin(), entries.begin() + 4);
    RunOutcome first =
        sim.run(writeUnsyncedTail(&storage.disk("node"), &sim.providers().time(), synced,
                                  std::vector<Entry>(entries.begin() + 4, entries.end())));
    ASSERT_TRUE(first.ok()) << first.message;
    storage.crash("node");
    std::unique_ptr<KvLog> log;
    RunOutcome second = sim.run(reopen(&storage.disk("node"), &sim.providers().time(), &log));
    ASSERT_TRUE(second.ok()) << second.message;
    ASSERT_GE(log->size(), synced.size()) << "seed " << seed << ": synced records were lost";
    for (std::size_t i = 0; i < log->size(); ++i) EXPECT_EQ(log->at(i), entries[i]);
    cut += log->scan().bytesDropped > 0 ? 1 : 0;
  }
  EXPECT_GT(cut, 0) << "no seed tore a record mid-way: the test shows nothing";
}

Task<std::uint64_t> loaded(StorageProvider* disk) {
  absl::StatusOr<std::uint64_t> epoch = co_await loadPromise(*disk, "kv.promise");
  EXPECT_TRUE(epoch.ok()) << epoch.status();
  co_return epoch.value_or(~std::uint64_t{0});
}

Task<void> flipByte(StorageProvider* disk, std::uint64_t offset) {
  auto file = (co_await disk->open("kv.promise", OpenMode::kOpenExisting)).orThrow();
  std::array<std::byte, 1> byte{};
  (co_await file->read(offset, byte)).orThrow();
  byte[0] ^= std::byte{0xff};
  (co_await file->write(offset, byte)).orThrow();
}

Task<void> promiseRoundTrip(StorageProvider* disk) {
  EXPECT_EQ(co_await loaded(disk), 0u) << "a missing promise reads as 0";
  EXPECT_TRUE((co_await storePromise(*disk, "kv.promise", 41)).ok());
  EXPECT_EQ(co_await loaded(disk), 41u);
  EXPECT_TRUE((co_await storePromise(*disk, "kv.promise", 42)).ok());
  co_await flipByte(disk, 2);  // the first copy
  EXPECT_EQ(co_await loaded(disk), 42u) << "one corrupt copy: the other one holds";
  co_await flipByte(disk, 4096 + 2);  // and the second
  absl::StatusOr<std::uint64_t> broken = co_await loadPromise(*disk, "kv.promise");
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(broken.status().message().find("every copy of the epoch promise is corrupt"),
            std::string_view::npos)
      << broken.status();
}

TEST(KvLogFile, PromiseSurvivesOneCorruptCopyAndRefusesToStartWithNone) {
  Disk disk;
  disk.run(promiseRoundTrip(disk.node()));
}

// A crash while a new promise is stored (its unsynced bytes lost or torn) leaves the old or
// the new promise, never an error and never 0.
Task<void> storePromiseFor(StorageProvider* disk, TimeProvider* time, Duration limit,
                           std::uint64_t epoch) {
  auto store = [](StorageProvider* d, std::uint64_t e) -> Task<void> {
    EXPECT_TRUE((co_await storePromise(*d, "kv.promise", e)).ok());
  };
  (void)co_await tryWithin(*time, limit, store(disk, epoch));
}

TEST(KvLogFile, ACrashWhileStoringAPromiseKeepsTheOldOrTheNewOne) {
  std::map<std::uint64_t, int> seen;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    Simulation sim(SimOptions{.seed = seed});
    Timeline timeline(sim.executor());
    StorageOptions options;  // the default latency model, no faults but tears on crash
    options.faults.crashTear = Probability{0.5};
    SimStorage storage(sim.executor(), sim.random(), timeline, options);
    StorageProvider* disk = &storage.disk("node");
    TimeProvider* time = &sim.providers().time();
    ASSERT_TRUE(sim.run(storePromiseFor(disk, time, std::chrono::seconds(10), 7)).ok());
    const Duration cutAfter = sim.random().durationIn(
        DurationRange{Duration(0), Duration(std::chrono::milliseconds(3))});
    ASSERT_TRUE(sim.run(storePromiseFor(disk, time, cutAfter, 8)).ok());
    storage.crash("node");
    std::uint64_t epoch = 0;
    auto load = [](StorageProvider* d, std::uint64_t* out) -> Task<void> {
      *out = co_await loaded(d);
    };
    ASSERT_TRUE(sim.run(load(disk, &epoch)).ok()) << "seed " << seed;
    ASSERT_TRUE(epoch == 7 || epoch == 8) << "seed " << seed << ": epoch " << epoch;
    ++seen[epoch];
  }
  EXPECT_GT(seen[7], 0) << "no crash landed before the new promise was stored";
  EXPECT_GT(seen[8], 0) << "no store completed before the crash";
}

}  // namespace
}  // namespace moonpool::kv
