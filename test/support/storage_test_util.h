// Helpers shared by the storage tests: byte/string conversion, reading a whole file, and
// EXPECT_IO_ERROR. The coroutine assertions they use come with it (support/co_assert.h).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/sim/sim_storage.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/sim/timeline.h"
#include "moonpool/storage.h"
#include "moonpool/task.h"
#include "support/co_assert.h"

namespace moonpool::storage_test {

inline std::vector<std::byte> bytesOf(std::string_view text) {
  std::vector<std::byte> out(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<std::byte>(text[i]);
  return out;
}

inline std::string textOf(std::span<const std::byte> bytes) {
  std::string out(bytes.size(), '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) out[i] = static_cast<char>(bytes[i]);
  return out;
}

// Reads [offset, offset + length) (shorter at end of file); "<error: ...>" on failure.
inline Task<std::string> readText(File& file, std::uint64_t offset, std::size_t length) {
  std::vector<std::byte> buffer(length);
  IoResult<std::size_t> got = co_await file.read(offset, buffer);
  if (!got.ok()) co_return "<error: " + got.error().toString() + ">";
  co_return textOf(std::span(buffer).first(*got));
}

inline Task<IoResult<void>> writeText(File& file, std::uint64_t offset, std::string text) {
  std::vector<std::byte> bytes = bytesOf(text);
  co_return co_await file.write(offset, bytes);
}

// The whole file's contents, or "<error: ...>".
inline Task<std::string> readWhole(File& file) {
  IoResult<std::uint64_t> size = co_await file.size();
  if (!size.ok()) co_return "<error: " + size.error().toString() + ">";
  co_return co_await readText(file, 0, static_cast<std::size_t>(*size));
}

// Opens `path` and returns its contents, or "<error: ...>" (e.g. "<missing>" semantics are
// up to the caller: kNotFound shows as "<error: not found: ...>").
inline Task<std::string> fileText(StorageProvider& disk, std::string path) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open(path, OpenMode::kOpenExisting);
  if (!file.ok()) co_return "<error: " + file.error().toString() + ">";
  co_return co_await readWhole(**file);
}

// One seed's simulation with a timeline and simulated disks.
struct SimRig {
  SimRig(std::uint64_t seed, StorageOptions options)
      : sim(SimOptions{.seed = seed}),
        timeline(sim.executor()),
        storage(sim.executor(), sim.random(), timeline, std::move(options)) {}

  // Runs `task` to completion; a run that does not complete fails the test.
  void run(Task<void> task) {
    RunOutcome outcome = sim.run(std::move(task));
    EXPECT_TRUE(outcome.ok()) << outcome.message;
  }
  std::uint64_t faults(std::string_view kind) const {
    auto it = timeline.faultCounts().find(kind);
    return it == timeline.faultCounts().end() ? 0 : it->second;
  }
  // Every timeline event, one line each.
  std::vector<std::string> events() const {
    std::vector<std::string> lines;
    for (const TimelineEvent& event : timeline.events()) lines.push_back(event.toString());
    return lines;
  }

  Simulation sim;
  Timeline timeline;
  SimStorage storage;
};

// Creates (or empties) `path` with `text`, synced.
inline Task<void> putSynced(StorageProvider& disk, std::string path, std::string text) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open(path, OpenMode::kCreateTruncate);
  if (!file.ok()) {
    ADD_FAILURE() << "open " << path << ": " << file.error().toString();
    co_return;
  }
  IoResult<void> wrote = co_await writeText(**file, 0, text);
  IoResult<void> synced = co_await (*file)->sync();
  EXPECT_TRUE(wrote.ok() && synced.ok()) << "putSynced(" << path << ") failed";
}

// exists(path), with an error reported as a test failure (and false).
inline Task<bool> isFile(StorageProvider& disk, std::string path) {
  IoResult<bool> found = co_await disk.exists(path);
  if (!found.ok()) {
    ADD_FAILURE() << "exists('" << path << "') failed: " << found.error().toString();
    co_return false;
  }
  co_return *found;
}

}  // namespace moonpool::storage_test

// `result` (an IoResult) failed with IoErrorKind `expected`.
#define EXPECT_IO_ERROR(result, expected)                                                        \
  do {                                                                                           \
    const auto& storage_test_result_ = (result);                                                 \
    if (storage_test_result_.ok()) {                                                             \
      ADD_FAILURE() << #result " succeeded; expected " << ::moonpool::ioErrorKindName(expected); \
    } else {                                                                                     \
      EXPECT_EQ(storage_test_result_.error().kind, expected)                                     \
          << #result ": " << storage_test_result_.error().toString();                            \
    }                                                                                            \
  } while (false)
