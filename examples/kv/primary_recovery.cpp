// The primary's recovery at boot (see server.h "Recovery" for why both backups must answer).
//
// Each backup is handled by its own task: claim it (above whatever epoch it promised), then
// copy every entry it holds beyond our log. The two run in parallel, and copying starts as
// soon as one backup has answered: an entry that survives on a single backup is copied the
// moment that backup is reachable, not after the slower one has answered too (a window in
// which that last copy could be lost; seed 12609 of the chaos sweep lost one that way).
// Serving starts only when both are done. Every log is a prefix of one history — the
// chained hash is checked on every fetched batch — so copying from both, in any
// interleaving, ends at the longest log.
#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "moonpool/assertions.h"
#include "primary.h"

namespace moonpool::kv {

Task<void> Primary::recover() {
  const std::uint64_t bootLength = log_->size();
  for (int round = 1;; ++round) {
    if (round > kRecoveryRoundsMax) {
      fail(absl::AbortedError(absl::StrCat("recovery did not settle in ", kRecoveryRoundsMax,
                                           " rounds")));
      co_return;
    }
    auto [first, second] = co_await whenAll(recoverFrom(0), recoverFrom(1));
    const absl::Status problem = first.status.ok() ? second.status : first.status;
    if (problem.code() == absl::StatusCode::kAborted) {
      note("kv.recovery_retry", std::string(problem.message()));
      continue;
    }
    if (!problem.ok()) {
      fail(problem);
      co_return;
    }
    epoch_ = std::max(first.epoch, second.epoch);
    checkPrefix(first.reply);
    checkPrefix(second.reply);
    const std::uint64_t longest = std::max(first.reply.length, second.reply.length);
    startServing(bootLength, std::min(longest, log_->size()));
    co_return;
  }
}

Task<Primary::Claimed> Primary::recoverFrom(std::size_t backup) {
  BackupLink& link = links_[backup];
  Claimed claimed;
  claimed.epoch = nextEpoch_;
  for (int staleInARow = 0;;) {
    // At most once (kv_service.h): a claim whose connection broke is simply sent again,
    // and the backup answers kStale if the first one did arrive.
    Reply<ClaimReply> reply = co_await link.peer->call(link.replica->claim(claimed.epoch));
    if (reply.ok() && reply.value->status == Status::kOk) {
      claimed.reply = *reply.value;
      break;
    }
    if (reply.ok() && reply.value->status == Status::kStale) {
      // It promised an earlier incarnation a newer epoch: go above it. The first time at
      // once; if that is stale again, another primary is claiming too: back off.
      const std::uint64_t promised = reply.value->promised;
      if (promised >= kEpochMax) {
        claimed.status = absl::FailedPreconditionError(absl::StrCat(
            serverName(backups_[backup].id), " promised epoch ", promised,
            ", at or beyond kEpochMax: no epoch is left above it"));
        co_return claimed;
      }
      claimed.epoch = std::max(claimed.epoch, promised) + 1;
      if (staleInARow++ > 0) co_await backoff(config_.tuning.retry);
      continue;
    }
    staleInARow = 0;
    if (reply.ok() && reply.value->status != Status::kUnavailable) {
      note("kv.unexpected", absl::StrCat(serverName(backups_[backup].id), " answered a claim '",
                                         statusName(reply.value->status), "'"));
    }
    co_await backoff(config_.tuning.retry);
  }
  nextEpoch_ = std::max(nextEpoch_, claimed.epoch + 1);  // a later round starts above it
  while (claimed.status.ok() && log_->size() < claimed.reply.length) {
    claimed.status = co_await fetchOnce(backup, claimed.reply.length);
    if (claimed.status.code() == absl::StatusCode::kUnavailable) {
      claimed.status = absl::OkStatus();
      co_await backoff(config_.tuning.retry);
    }
  }
  co_return claimed;
}

Task<absl::Status> Primary::fetchOnce(std::size_t backup, std::uint64_t length) {
  // One fetcher at a time appends to the log, from the length it has right now.
  Mutex::Guard guard = co_await fetchLock_.lock();
  const std::uint64_t from = log_->size();
  if (from >= length) co_return absl::OkStatus();
  const std::string who = serverName(backups_[backup].id);
  BackupLink& link = links_[backup];
  Reply<FetchReply> reply = co_await link.peer->call(link.replica->fetch(from));
  if (!reply.ok()) {
    co_return absl::UnavailableError(who + " did not answer a fetch: " + reply.error);
  }
  const FetchReply& fetched = *reply.value;
  if (fetched.status != Status::kOk || fetched.entries.empty()) {
    co_return absl::AbortedError(absl::StrCat(who, " answered a fetch from ", from, " with '",
                                              statusName(fetched.status), "', length ",
                                              fetched.length));
  }
  const bool agrees = fetched.prevHash == log_->hashAt(from);
  MOONPOOL_ALWAYS(agrees, "replica logs are prefixes of one history");
  if (!agrees) co_return absl::AbortedError(who + "'s log disagrees with ours");
  std::vector<Entry> entries = fetched.entries;
  const std::size_t count = entries.size();
  if (count > kEntriesPerMessageMax || !std::all_of(entries.begin(), entries.end(), entryFits)) {
    co_return absl::AbortedError(who + " sent entries out of bounds");
  }
  absl::Status appended = co_await log_->append(std::move(entries));
  if (!appended.ok()) co_return appended;  // a local storage failure: not retried here
  if (config_.counters != nullptr) config_.counters->entriesFetched += count;
  co_return absl::OkStatus();
}

void Primary::checkPrefix(const ClaimReply& reply) {
  if (reply.length > log_->size()) return;  // cannot happen after adopting the longest
  MOONPOOL_ALWAYS(reply.hash == log_->hashAt(reply.length),
                  "replica logs are prefixes of one history");
}

void Primary::rebuildMap() {
  map_.clear();
  for (std::uint64_t i = 0; i < log_->size(); ++i) {
    const Entry& entry = log_->at(i);
    auto it = map_.find(entry.key);
    if (it != map_.end()) {
      MOONPOOL_ALWAYS(entry.version > it->second.version,
                      "the versions of a key only grow along the log");
    }
    map_.insert_or_assign(entry.key, KeyState{entry.version, entry.value, i});
  }
}

void Primary::startServing(std::uint64_t bootLength, std::uint64_t committed) {
  MOONPOOL_CHECK_GE(log_->size(), bootLength, "recovery shrank the log");
  MOONPOOL_CHECK_LE(committed, log_->size());
  MOONPOOL_CHECK(phase_ == Phase::kRecovering, "recovered twice in one incarnation");
  const std::uint64_t adopted = log_->size() - bootLength;
  MOONPOOL_SOMETIMES(bootLength == 0 && adopted > 0,
                     "the primary recovered from backups after a wipe");
  rebuildMap();
  nextIndex_ = log_->size();
  commitLength_ = committed;
  for (BackupState& b : backups_) b.acked = 0;
  phase_ = Phase::kServing;
  if (config_.counters != nullptr) ++config_.counters->recoveries;
  note("kv.recovered", absl::StrCat("epoch ", epoch_, ": booted with ", bootLength,
                                    " entries, adopted ", adopted, ", log ", log_->size(),
                                    ", committed ", committed));
  spawn("writer", writer());
  for (std::size_t i = 0; i < kBackups; ++i) {
    spawn("replicate " + serverName(backups_[i].id), replicate(i));
  }
}

}  // namespace moonpool::kv
