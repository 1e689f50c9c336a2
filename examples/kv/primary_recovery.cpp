// The primary's recovery at boot: claim both backups, adopt the longest log (see server.h
// "Recovery" for why both backups must answer).
#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "moonpool/assertions.h"
#include "primary.h"

namespace moonpool::kv {

Task<void> Primary::recover() {
  const std::uint64_t bootLength = log_->size();
  std::uint64_t epoch = 1;
  for (int round = 1;; ++round) {
    if (round > kRecoveryRoundsMax) {
      fail(absl::AbortedError(absl::StrCat("recovery did not settle in ", kRecoveryRoundsMax,
                                           " rounds")));
      co_return;
    }
    auto [first, second] =
        co_await whenAll(claimUntilAnswered(0, epoch), claimUntilAnswered(1, epoch));
    if (first.status == Status::kStale || second.status == Status::kStale) {
      // A backup promised a newer epoch already (an earlier incarnation): go above it.
      epoch = std::max({epoch, first.promised, second.promised}) + 1;
      continue;
    }
    epoch_ = epoch;
    const std::size_t best = first.length >= second.length ? 0 : 1;
    const std::uint64_t bestLength = std::max(first.length, second.length);
    if (bestLength > log_->size()) {
      absl::Status fetched = co_await fetchFrom(best, bestLength);
      if (fetched.code() == absl::StatusCode::kAborted) {
        note("kv.recovery_retry", std::string(fetched.message()));
        epoch = epoch_ + 1;
        continue;
      }
      if (!fetched.ok()) {
        fail(fetched);
        co_return;
      }
    }
    checkPrefix(first);
    checkPrefix(second);
    startServing(bootLength, std::min(bestLength, log_->size()));
    co_return;
  }
}

Task<ClaimReply> Primary::claimUntilAnswered(std::size_t backup, std::uint64_t epoch) {
  RpcLink link = makeLink(backup);
  for (;;) {
    absl::StatusOr<Message> reply = co_await link.call(ClaimRequest{epoch});
    if (reply.ok()) {
      if (const auto* claim = std::get_if<ClaimReply>(&*reply)) {
        if (claim->status == Status::kOk || claim->status == Status::kStale) co_return *claim;
      } else {
        note("kv.unexpected", absl::StrCat("a '", messageName(*reply), "' answering a claim"));
        link.close();
      }
    }
    co_await backoff(config_.tuning.retryLo, config_.tuning.retryHi);
  }
}

Task<absl::Status> Primary::fetchFrom(std::size_t backup, std::uint64_t length) {
  RpcLink link = makeLink(backup);
  const std::string who = serverName(backups_[backup].id);
  while (log_->size() < length) {
    absl::StatusOr<Message> reply =
        co_await link.call(FetchRequest{.epoch = epoch_, .from = log_->size()});
    const auto* fetched = reply.ok() ? std::get_if<FetchReply>(&*reply) : nullptr;
    if (fetched == nullptr || fetched->status == Status::kUnavailable) {
      if (reply.ok() && fetched == nullptr) link.close();
      co_await backoff(config_.tuning.retryLo, config_.tuning.retryHi);
      continue;
    }
    if (fetched->status != Status::kOk || fetched->entries.empty()) {
      co_return absl::AbortedError(absl::StrCat(who, " answered a fetch with '",
                                                statusName(fetched->status), "', length ",
                                                fetched->length));
    }
    const bool agrees = fetched->prevHash == log_->hashAt(log_->size());
    MOONPOOL_ALWAYS(agrees, "replica logs are prefixes of one history");
    if (!agrees) co_return absl::AbortedError(who + "'s log disagrees with ours");
    std::vector<Entry> entries = fetched->entries;
    const std::size_t count = entries.size();
    if (!std::all_of(entries.begin(), entries.end(), entryFits)) {
      co_return absl::AbortedError(who + " sent an entry out of bounds");
    }
    absl::Status appended = co_await log_->append(std::move(entries));
    if (!appended.ok()) co_return appended;
    if (config_.counters != nullptr) config_.counters->entriesFetched += count;
  }
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
