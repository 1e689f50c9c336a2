// A backup server (see backup.h).
#include "backup.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "moonpool/assertions.h"
#include "moonpool/internal/check.h"

namespace moonpool::kv {

// Tasks first: they reference the log and the lock.
Backup::~Backup() { stopTasks(); }

Task<absl::Status> Backup::start() {
  absl::StatusOr<std::unique_ptr<KvLog>> opened = co_await openLog();
  if (!opened.ok()) co_return opened.status();
  log_ = std::move(*opened);
  promised_ = co_await loadPromise(providers_.storage(), config_.promisePath);
  lastFromPrimary_ = providers_.time().now();
  spawn("peer sync", syncFromPeer());
  co_return absl::OkStatus();
}

Task<std::optional<Message>> Backup::handle(Message request) {
  if (auto* claim = std::get_if<ClaimRequest>(&request)) co_return co_await this->claim(*claim);
  if (auto* append = std::get_if<AppendRequest>(&request)) {
    co_return co_await this->append(std::move(*append));
  }
  if (auto* fetch = std::get_if<FetchRequest>(&request)) co_return Message(this->fetch(*fetch));
  if (auto* put = std::get_if<PutRequest>(&request)) {
    co_return Message(PutReply{.requestId = put->requestId, .status = Status::kNotPrimary});
  }
  if (auto* get = std::get_if<GetRequest>(&request)) {
    GetReply reply;
    reply.requestId = get->requestId;
    reply.status = Status::kNotPrimary;
    co_return Message(std::move(reply));
  }
  note("kv.unexpected", absl::StrCat("a '", messageName(request), "' sent to a backup"));
  co_return std::nullopt;
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

void Backup::primaryConnectionEnded() {
  primaryLink_ = PrimaryLink::kLost;
  primaryLost_.notify();
}

Task<std::optional<Message>> Backup::claim(ClaimRequest request) {
  AsyncLock::Guard guard = co_await lock_.acquire();
  lastFromPrimary_ = providers_.time().now();
  primaryLink_ = PrimaryLink::kMaybeAlive;
  ClaimReply reply{.status = Status::kStale, .promised = promised_, .length = log_->size(),
                   .hash = log_->hashAt(log_->size())};
  if (request.epoch <= promised_) co_return Message(reply);
  if (!co_await promise(request.epoch)) co_return std::nullopt;
  reply.status = Status::kOk;
  reply.promised = promised_;
  co_return Message(reply);
}

Task<std::optional<Message>> Backup::append(AppendRequest request) {
  AsyncLock::Guard guard = co_await lock_.acquire();
  lastFromPrimary_ = providers_.time().now();
  primaryLink_ = PrimaryLink::kMaybeAlive;
  AppendReply reply{.status = Status::kOk, .promised = promised_, .length = log_->size()};
  if (request.epoch < promised_) {
    reply.status = Status::kStale;  // a message of an older primary incarnation
    co_return Message(reply);
  }
  if (request.epoch > promised_ && !co_await promise(request.epoch)) co_return std::nullopt;
  reply.promised = promised_;
  if (request.from > log_->size()) {
    reply.status = Status::kBehind;
    co_return Message(reply);
  }
  const bool agrees = log_->hashAt(request.from) == request.prevHash;
  MOONPOOL_ALWAYS(agrees, "replica logs are prefixes of one history");
  if (!agrees) {
    note("kv.diverged", absl::StrCat("append from ", request.from, " disagrees with our log"));
    co_return std::nullopt;
  }
  const std::uint64_t overlap = log_->size() - request.from;  // entries we already hold
  if (overlap < request.entries.size()) {
    std::vector<Entry> fresh(request.entries.begin() + static_cast<std::ptrdiff_t>(overlap),
                             request.entries.end());
    if (!std::all_of(fresh.begin(), fresh.end(), entryFits)) {
      note("kv.rejected", "an append with an entry out of bounds");
      co_return std::nullopt;
    }
    absl::Status appended = co_await log_->append(std::move(fresh));
    if (!appended.ok()) {
      fail(appended);
      co_return std::nullopt;
    }
  }
  reply.length = log_->size();
  MOONPOOL_CHECK_GE(reply.length, request.from + request.entries.size(), "an append fell short");
  co_return Message(reply);
}

FetchReply Backup::fetch(const FetchRequest& request) const {
  FetchReply reply;
  reply.promised = promised_;
  reply.length = log_->size();
  if (request.from > log_->size()) {
    reply.status = Status::kBehind;
  } else {
    reply.prevHash = log_->hashAt(request.from);
    reply.entries = log_->slice(request.from, kEntriesPerMessageMax);
  }
  return reply;
}

Task<void> Backup::syncFromPeer() {
  const std::uint32_t peer = config_.id == kPrimaryId + 1 ? kPrimaryId + 2 : kPrimaryId + 1;
  RpcLink link(providers_, config_.servers[peer - 1], config_.tuning.peerTimeout, name_,
               config_.events, config_.counters);
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
      if (!co_await copyBatchFromPeer(link)) break;
    }
    co_await backoff(kPeerRoundLo, kPeerRoundHi);  // while the primary stays away
  }
}

Task<bool> Backup::copyBatchFromPeer(RpcLink& link) {
  const std::uint64_t from = log_->size();
  const std::uint64_t promised = promised_;
  absl::StatusOr<Message> reply = co_await link.call(FetchRequest{.from = from});
  const auto* fetched = reply.ok() ? std::get_if<FetchReply>(&*reply) : nullptr;
  if (fetched == nullptr || fetched->status != Status::kOk || fetched->entries.empty()) {
    co_return false;
  }
  AsyncLock::Guard guard = co_await lock_.acquire();
  // A primary spoke meanwhile (a claim raised the promise, or entries arrived): its word
  // wins; this batch is dropped.
  if (promised_ != promised || log_->size() != from) co_return false;
  const bool agrees = fetched->prevHash == log_->hashAt(from);
  MOONPOOL_ALWAYS(agrees, "replica logs are prefixes of one history");
  std::vector<Entry> entries = fetched->entries;
  if (!agrees || !std::all_of(entries.begin(), entries.end(), entryFits)) {
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
