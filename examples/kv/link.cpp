// RpcLink (see link.h).
#include "link.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "moonpool/assertions.h"

namespace moonpool::kv {
namespace {

Task<absl::StatusOr<Message>> exchange(Connection* connection, Message request) {
  absl::Status sent = co_await writeMessage(*connection, std::move(request));
  if (!sent.ok()) co_return sent;
  co_return co_await readMessage(*connection);
}

}  // namespace

void noteReadFailure(const absl::Status& status, std::string_view who, EventSink* events,
                     KvCounters* counters) {
  const bool corrupt = isCorruptFrame(status);
  MOONPOOL_SOMETIMES(corrupt, "a corrupt frame was detected and the connection closed");
  if (!corrupt) return;
  if (counters != nullptr) ++counters->corruptFrames;
  if (events != nullptr) {
    events->note(who, "kv.frame_corrupt", absl::StrCat("closing the connection: ", status.message()));
  }
}

Task<absl::Status> RpcLink::connect() {
  auto attempt =
      co_await tryWithin(providers_.time(), timeout_, providers_.network().connect(target_));
  if (!attempt) {
    co_return absl::DeadlineExceededError(
        absl::StrCat("connect to ", target_.toString(), " timed out"));
  }
  if (!attempt->ok()) {
    co_return absl::UnavailableError(
        absl::StrCat("connect to ", target_.toString(), ": ", attempt->error().toString()));
  }
  connection_ = std::move(*attempt).value();
  ++connects_;
  co_return absl::OkStatus();
}

Task<absl::StatusOr<Message>> RpcLink::call(Message request) {
  if (!connection_) {
    absl::Status connected = co_await connect();
    if (!connected.ok()) co_return connected;
  }
  auto reply = co_await tryWithin(providers_.time(), timeout_,
                                  exchange(connection_.get(), std::move(request)));
  if (!reply) {
    close();
    co_return absl::DeadlineExceededError(absl::StrCat(
        "no reply from ", target_.toString(), " within ", formatDuration(timeout_)));
  }
  if (!reply->ok()) {
    noteReadFailure(reply->status(), owner_, events_, counters_);
    close();
    co_return reply->status();
  }
  co_return std::move(*reply).value();
}

}  // namespace moonpool::kv
