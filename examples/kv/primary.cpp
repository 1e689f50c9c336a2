// The primary while serving: writer, replication, PUT and GET (see primary.h). Recovery is
// in primary_recovery.cpp.
#include "primary.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "moonpool/assertions.h"
#include "moonpool/buggify.h"

namespace moonpool::kv {

Primary::Primary(Providers providers, ServerConfig config) : Node(providers, std::move(config)) {
  for (std::size_t i = 0; i < kBackups; ++i) {
    backups_[i].id = static_cast<std::uint32_t>(kPrimaryId + 1 + i);
    backups_[i].address = config_.servers[kPrimaryId + i];
  }
}

// Serving and tasks first: they reference the members below.
Primary::~Primary() { stopServing(); }

Task<absl::Status> Primary::start() {
  for (std::size_t i = 0; i < kBackups; ++i) {
    links_[i].peer = std::make_unique<KvPeer>(providers_, backups_[i].address,
                                              serverPeerOptions(), config_.counters);
    links_[i].replica = std::make_unique<schema::KvReplicaRemote>(links_[i].peer->peer());
  }
  absl::StatusOr<std::unique_ptr<KvLog>> opened = co_await openLog();
  if (!opened.ok()) co_return opened.status();
  log_ = std::move(*opened);
  spawn("recover", recover());
  co_return absl::OkStatus();
}

Task<void> Primary::writer() {
  for (;;) {
    while (pending_.empty()) co_await pendingReady_.wait();
    std::vector<Entry> batch = std::exchange(pending_, {});
    absl::Status written = co_await log_->append(std::move(batch));
    if (!written.ok()) {
      fail(written);
      co_return;
    }
    MOONPOOL_CHECK_EQ(log_->size() + pending_.size(), nextIndex_, "queued entries went missing");
    logGrew_.notify();
  }
}

Task<void> Primary::replicate(std::size_t backup) {
  std::optional<std::uint64_t> known;  // the backup's log length, while we know it
  bool wasBehind = false;              // it reported a log shorter than we assumed
  for (;;) {
    if (known && *known >= log_->size()) {
      co_await tryWithin(providers_.time(), config_.tuning.probeInterval, logGrew_.wait());
    }
    const Exchanged got = co_await replicateOnce(backup, known);
    if (failed()) co_return;
    known = got.length;
    if (!known) {
      co_await backoff(config_.tuning.retry);
      continue;
    }
    if (got.status == Status::kBehind && *known < log_->size()) wasBehind = true;
    if (wasBehind) {
      const bool caughtUp = *known >= log_->size();
      MOONPOOL_SOMETIMES(caughtUp, "a backup that was behind caught up");
      if (caughtUp && config_.counters != nullptr) ++config_.counters->backupCatchUps;
      wasBehind = !caughtUp;
    }
  }
}

Task<Primary::Exchanged> Primary::replicateOnce(std::size_t backup,
                                                std::optional<std::uint64_t> known) {
  const std::uint64_t from = std::min(known.value_or(log_->size()), log_->size());
  const std::size_t batch =
      buggifyKnob(kEntriesPerMessageMax, std::size_t{1}, kEntriesPerMessageMax);
  AppendRequest request{.epoch = epoch_, .from = from, .prevHash = log_->hashAt(from),
                        .entries = log_->slice(from, batch)};
  BackupLink& link = links_[backup];
  Reply<AppendReply> reply = co_await link.peer->call(link.replica->append(std::move(request)));
  if (!reply.ok()) co_return Exchanged{};
  const AppendReply& append = *reply.value;
  switch (append.status) {
    case Status::kOk: {
      MOONPOOL_ALWAYS(append.length <= log_->size(),
                      "a backup never holds entries the primary lacks");
      const std::uint64_t length = std::min(append.length, log_->size());
      noteAcked(backup, length);
      co_return Exchanged{length, Status::kOk};
    }
    case Status::kBehind:
      co_return Exchanged{append.length, Status::kBehind};
    case Status::kStale:
      fail(absl::AbortedError(absl::StrCat(serverName(backups_[backup].id), " promised epoch ",
                                           append.promised, ", ours is ", epoch_)));
      co_return Exchanged{};
    case Status::kUnavailable:  // its storage failed: it is restarting
      co_return Exchanged{};
    default:
      note("kv.unexpected", absl::StrCat(serverName(backups_[backup].id), " answered an append '",
                                         statusName(append.status), "'"));
      co_return Exchanged{};
  }
}

void Primary::noteAcked(std::size_t backup, std::uint64_t length) {
  MOONPOOL_CHECK_LT(backup, kBackups);
  MOONPOOL_CHECK_LE(length, log_->size(), "an acknowledgement beyond our own log");
  backups_[backup].acked = length;
  std::uint64_t majority = 0;
  for (const BackupState& b : backups_) majority = std::max(majority, b.acked);
  majority = std::min(majority, log_->size());
  if (majority > commitLength_) {
    commitLength_ = majority;
    committed_.notify();
  }
  MOONPOOL_CHECK_LE(commitLength_, log_->size(), "committed entries we do not hold");
}

Task<void> Primary::untilCommitted(std::uint64_t length) {
  while (commitLength_ < length) co_await committed_.wait();
}

Task<bool> Primary::committedWithin(std::uint64_t length) {
  co_return co_await tryWithin(providers_.time(), config_.tuning.commitWaitMax,
                               untilCommitted(length));
}

Task<PutReply> Primary::put(Entry entry) {
  co_return co_await served("put", handlePut(std::move(entry)));
}

Task<GetReply> Primary::get(std::string key) {
  co_return co_await served("get", handleGet(std::move(key)));
}

Task<PutReply> Primary::handlePut(Entry entry) {
  PutReply reply{.status = Status::kOk};
  if (!entryFits(entry)) {
    reply.status = Status::kRejected;  // out of bounds: never accepted, in any phase
    co_return reply;
  }
  if (phase_ != Phase::kServing) {
    reply.status = Status::kNotReady;
    co_return reply;
  }
  std::uint64_t index = 0;
  auto it = map_.find(entry.key);
  if (it != map_.end() && it->second.version >= entry.version) {
    index = it->second.index;  // a retry, or an older write: answered by the newer entry
    if (config_.counters != nullptr) ++config_.counters->duplicatePuts;
  } else if (pending_.size() >= kPendingMax) {
    reply.status = Status::kUnavailable;
    co_return reply;
  } else {
    index = nextIndex_++;
    map_.insert_or_assign(entry.key, KeyState{entry.version, entry.value, index});
    pending_.push_back(std::move(entry));
    pendingReady_.notify();
  }
  if (buggify()) {
    co_await providers_.time().sleep(providers_.random().durationBetween(
        std::chrono::milliseconds(100), std::chrono::milliseconds(1500)));
  }
  const bool committed = co_await committedWithin(index + 1);
  reply.status = committed ? Status::kOk : Status::kUnavailable;
  co_return reply;
}

Task<GetReply> Primary::handleGet(std::string key) {
  GetReply reply;
  if (key.empty() || key.size() > kKeyBytesMax) {
    reply.status = Status::kRejected;
    co_return reply;
  }
  if (phase_ != Phase::kServing) {
    reply.status = Status::kNotReady;
    co_return reply;
  }
  auto it = map_.find(key);
  if (it == map_.end()) co_return reply;  // found = kNo: nothing was ever written there
  const KeyState seen = it->second;
  if (!co_await committedWithin(seen.index + 1)) {
    reply.status = Status::kUnavailable;
    co_return reply;
  }
  reply.found = Found::kYes;
  reply.version = seen.version;
  reply.value = seen.value;
  co_return reply;
}

}  // namespace moonpool::kv
