// A backup server (see backup.h).
#include "backup.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "moonpool/assertions.h"
#include "moonpool/check.h"

namespace moonpool::kv {

// Serving and tasks first: they reference the log, the lock and the peer.
Backup::~Backup() { stopServing(); }

Task<absl::Status> Backup::start() {
  const std::uint32_t other = config_.id == kPrimaryId + 1 ? kPrimaryId + 2 : kPrimaryId + 1;
  otherPeer_ = std::make_unique<KvPeer>(providers_, config_.servers[other - 1],
                                        serverPeerOptions(), config_.counters);
  other_ = std::make_unique<schema::KvReplicaRemote>(otherPeer_->peer());
  absl::StatusOr<std::unique_ptr<KvLog>> opened = co_await openLog();
  if (!opened.ok()) co_return opened.status();
  log_ = std::move(*opened);
  absl::StatusOr<std::uint64_t> promised =
      co_await loadPromise(providers_.storage(), config_.promisePath);
  if (!promised.ok()) co_return promised.status();
  promised_ = *promised;
  lastFromPrimary_ = providers_.time().now();
  spawn("peer sync", syncFromPeer());
  co_return absl::OkStatus();
}

Task<bool> Backup::promise(std::uint64_t epoch) {
  absl::Status stored = co_await storePromise(providers_.storage(), config_.promisePath, epoch);
  if (!stored.ok()) {
    fail(stored);
    co_return false;
  }
  promised_ = epoch;
  co_return true;
}

bool Backup::epochAllowed(std::uint64_t epoch, const char* request) {
  if (epoch <= kEpochMax && epoch - promised_ <= kEpochStepMax) return true;
  note("kv.rejected", absl::StrCat("a ", request, " at epoch ", epoch, " (promised ",
                                   promised_, "): beyond ", epoch > kEpochMax ? "kEpochMax" :
                                   "kEpochStepMax above the promise"));
  return false;
}

void Backup::primaryConnectionEnded() {
  primaryLink_ = PrimaryLink::kLost;
  primaryLost_.notify();
}

Task<ClaimReply> Backup::claim(std::uint64_t epoch) {
  co_return co_await served("claim", handleClaim(epoch));
}

Task<AppendReply> Backup::append(AppendRequest request) {
  co_return co_await served("append", handleAppend(std::move(request)));
}

Task<ClaimReply> Backup::handleClaim(std::uint64_t epoch) {
  Mutex::Guard guard = co_await lock_.lock();
  lastFromPrimary_ = providers_.time().now();
  primaryLink_ = PrimaryLink::kMaybeAlive;
  ClaimReply reply{.status = Status::kStale, .promised = promised_, .length = log_->size(),
                   .hash = log_->hashAt(log_->size())};
  if (epoch <= promised_) co_return reply;  // equal too: one epoch, one incarnation
  if (!epochAllowed(epoch, "claim")) {
    reply.status = Status::kRejected;
    co_return reply;
  }
  if (!co_await promise(epoch)) {
    reply.status = Status::kUnavailable;  // storage failed: this incarnation is ending
    co_return reply;
  }
  reply.status = Status::kOk;
  reply.promised = promised_;
  co_return reply;
}

Task<AppendReply> Backup::handleAppend(AppendRequest request) {
  AppendReply reply{.status = Status::kRejected, .promised = promised_, .length = log_->size()};
  if (request.entries.size() > kEntriesPerMessageMax ||
      !std::all_of(request.entries.begin(), request.entries.end(), entryFits)) {
    note("kv.rejected", absl::StrCat("an append of ", request.entries.size(),
                                     " entries, some out of bounds"));
    co_return reply;
  }
  Mutex::Guard guard = co_await lock_.lock();
  lastFromPrimary_ = providers_.time().now();
  primaryLink_ = PrimaryLink::kMaybeAlive;
  reply = AppendReply{.status = Status::kOk, .promised = promised_, .length = log_->size()};
  if (request.epoch < promised_) {
    reply.status = Status::kStale;  // a call of an older primary incarnation
    co_return reply;
  }
  if (request.epoch > promised_ && !epochAllowed(request.epoch, "append")) {
    reply.status = Status::kRejected;
    co_return reply;
  }
  if (request.epoch > promised_ && !co_await promise(request.epoch)) {
    reply.status = Status::kUnavailable;  // storage failed: this incarnation is ending
    co_return reply;
  }
  reply.promised = promised_;
  if (request.from > log_->size()) {
    reply.status = Status::kBehind;
    co_return reply;
  }
  const bool agrees = log_->hashAt(request.from) == request.prevHash;
  MOONPOOL_ALWAYS(agrees, "replica logs are prefixes of one history");
  if (!agrees) {
    note("kv.diverged", absl::StrCat("append from ", request.from, " disagrees with our log"));
    reply.status = Status::kRejected;
    co_return reply;
  }
  // Entries we already hold are skipped: a resent append changes nothing (kv_service.h).
  const std::uint64_t overlap = log_->size() - request.from;
  if (overlap < request.entries.size()) {
    std::vector<Entry> fresh(request.entries.begin() + static_cast<std::ptrdiff_t>(overlap),
                             request.entries.end());
    absl::Status appended = co_await log_->append(std::move(fresh));
    if (!appended.ok()) {
      fail(appended);
      reply.status = Status::kUnavailable;
      co_return reply;
    }
  }
  reply.length = log_->size();
  MOONPOOL_CHECK_GE(reply.length, request.from + request.entries.size(), "an append fell short");
  co_return reply;
}

Task<FetchReply> Backup::fetch(std::uint64_t from) {
  FetchReply reply;
  reply.promised = promised_;
  reply.length = log_->size();
  if (from > log_->size()) {
    reply.status = Status::kBehind;
  } else {
    reply.prevHash = log_->hashAt(from);
    reply.entries = log_->slice(from, kEntriesPerMessageMax);
  }
  co_return reply;
}

Task<void> Backup::syncFromPeer() {
  for (;;) {
    const Duration quiet = providers_.time().now() - lastFromPrimary_;
    if (quiet < config_.tuning.peerSyncAfter && primaryLink_ != PrimaryLink::kLost) {
      // Sleeps until the silence would be long enough, or a replication connection ends.
      co_await tryWithin(providers_.time(), config_.tuning.peerSyncAfter - quiet,
                         primaryLost_.wait());
      continue;
    }
    primaryLink_ = PrimaryLink::kMaybeAlive;  // one round per hint
    for (int batch = 0; batch < kPeerBatchesMax; ++batch) {
      if (!co_await copyBatchFromPeer()) break;
    }
    co_await backoff(kPeerRound);  // while the primary stays away
  }
}

Task<bool> Backup::copyBatchFromPeer() {
  const std::uint64_t from = log_->size();
  const std::uint64_t promised = promised_;
  Reply<FetchReply> reply = co_await otherPeer_->call(other_->fetch(from));
  if (!reply.ok()) co_return false;
  const FetchReply& fetched = *reply.value;
  if (fetched.status != Status::kOk || fetched.entries.empty()) co_return false;
  Mutex::Guard guard = co_await lock_.lock();
  // A primary spoke meanwhile (a claim raised the promise, or entries arrived): its word
  // wins; this batch is dropped.
  if (promised_ != promised || log_->size() != from) co_return false;
  const bool agrees = fetched.prevHash == log_->hashAt(from);
  MOONPOOL_ALWAYS(agrees, "replica logs are prefixes of one history");
  std::vector<Entry> entries = fetched.entries;
  if (!agrees || entries.size() > kEntriesPerMessageMax ||
      !std::all_of(entries.begin(), entries.end(), entryFits)) {
    note("kv.peer_sync", "the other backup's log does not extend ours: not copied");
    co_return false;
  }
  const std::size_t count = entries.size();
  absl::Status appended = co_await log_->append(std::move(entries));
  if (!appended.ok()) {
    fail(appended);
    co_return false;
  }
  MOONPOOL_SOMETIMES(count > 0, "a backup copied entries from the other backup while the "
                                "primary was away");
  if (config_.counters != nullptr) config_.counters->peerCopies += count;
  co_return true;
}

}  // namespace moonpool::kv
