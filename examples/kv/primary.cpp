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

// Tasks first: they reference the members below.
Primary::~Primary() { stopTasks(); }

RpcLink Primary::makeLink(std::size_t backup) {
  return RpcLink(providers_, backups_[backup].address, config_.tuning.peerTimeout, name_,
                 config_.events, config_.counters);
}

Task<absl::Status> Primary::start() {
  absl::StatusOr<std::unique_ptr<KvLog>> opened = co_await openLog();
  if (!opened.ok()) co_return opened.status();
  log_ = std::move(*opened);
  spawn("recover", recover());
  co_return absl::OkStatus();
}

Task<std::optional<Message>> Primary::handle(Message request) {
  if (auto* put = std::get_if<PutRequest>(&request)) {
    co_return Message(co_await this->put(std::move(*put)));
  }
  if (auto* get = std::get_if<GetRequest>(&request)) {
    co_return Message(co_await this->get(std::move(*get)));
  }
  note("kv.unexpected", absl::StrCat("a '", messageName(request), "' sent to the primary"));
  co_return std::nullopt;
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
  RpcLink link = makeLink(backup);
  std::optional<std::uint64_t> known;  // the backup's log length, while we know it
  bool wasBehind = false;              // it reported a log shorter than we assumed
  for (;;) {
    if (known && *known >= log_->size()) {
      co_await tryWithin(providers_.time(), config_.tuning.probeInterval, logGrew_.wait());
    }
    const Exchanged got = co_await replicateOnce(link, backup, known);
    if (failed()) co_return;
    known = got.length;
    if (!known) {
      co_await backoff(config_.tuning.retryLo, config_.tuning.retryHi);
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

Task<Primary::Exchanged> Primary::replicateOnce(RpcLink& link, std::size_t backup,
                                                std::optional<std::uint64_t> known) {
  const std::uint64_t from = std::min(known.value_or(log_->size()), log_->size());
  const std::size_t batch =
      buggifyKnob(kEntriesPerMessageMax, std::size_t{1}, kEntriesPerMessageMax);
  AppendRequest request{.epoch = epoch_, .from = from, .prevHash = log_->hashAt(from),
                        .entries = log_->slice(from, batch)};
  absl::StatusOr<Message> reply = co_await link.call(std::move(request));
  if (!reply.ok()) co_return Exchanged{};
  const auto* append = std::get_if<AppendReply>(&*reply);
  if (append == nullptr) {
    note("kv.unexpected", absl::StrCat("a '", messageName(*reply), "' answering an append"));
    link.close();
    co_return Exchanged{};
  }
  switch (append->status) {
    case Status::kOk: {
      MOONPOOL_ALWAYS(append->length <= log_->size(),
                      "a backup never holds entries the primary lacks");
      const std::uint64_t length = std::min(append->length, log_->size());
      noteAcked(backup, length);
      co_return Exchanged{length, Status::kOk};
    }
    case Status::kBehind:
      co_return Exchanged{append->length, Status::kBehind};
    case Status::kStale:
      fail(absl::AbortedError(absl::StrCat(serverName(backups_[backup].id), " promised epoch ",
                                           append->promised, ", ours is ", epoch_)));
      co_return Exchanged{};
    default:
      link.close();
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

Task<PutReply> Primary::put(PutRequest request) {
  PutReply reply{.requestId = request.requestId, .status = Status::kOk};
  if (phase_ != Phase::kServing) {
    reply.status = Status::kNotReady;
    co_return reply;
  }
  if (!entryFits(request.entry)) {
    reply.status = Status::kRejected;
    co_return reply;
  }
  std::uint64_t index = 0;
  auto it = map_.find(request.entry.key);
  if (it != map_.end() && it->second.version >= request.entry.version) {
    index = it->second.index;  // a retry, or an older write: answered by the newer entry
    if (config_.counters != nullptr) ++config_.counters->duplicatePuts;
  } else if (pending_.size() >= kPendingMax) {
    reply.status = Status::kUnavailable;
    co_return reply;
  } else {
    index = nextIndex_++;
    map_.insert_or_assign(request.entry.key,
                          KeyState{request.entry.version, request.entry.value, index});
    pending_.push_back(std::move(request.entry));
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

Task<GetReply> Primary::get(GetRequest request) {
  GetReply reply;
  reply.requestId = request.requestId;
  if (phase_ != Phase::kServing) {
    reply.status = Status::kNotReady;
    co_return reply;
  }
  auto it = map_.find(request.key);
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
