// A backup's incarnation: it keeps a copy of the primary's log and answers the primary's
// Claim, Append and Fetch (examples/kv, internal to the server; protocol in server.h).
//
// Every change of the log or of the promise happens under one lock, so two connections of
// the primary (a live one and a stale one) never interleave inside an append.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "kv_log.h"
#include "node.h"

namespace moonpool::kv {

class Backup final : public Node {
 public:
  Backup(Providers providers, ServerConfig config) : Node(providers, std::move(config)) {}
  ~Backup() override;

 protected:
  // implements Node
  Task<absl::Status> start() override;
  Task<std::optional<Message>> handle(Message request) override;

 private:
  Task<std::optional<Message>> claim(ClaimRequest request);
  Task<std::optional<Message>> append(AppendRequest request);
  FetchReply fetch(const FetchRequest& request) const;
  // Persists a higher promise; false (and the incarnation fails) when storage failed.
  Task<bool> promise(std::uint64_t epoch);

  std::unique_ptr<KvLog> log_;
  std::uint64_t promised_ = 0;
  AsyncLock lock_;
};

}  // namespace moonpool::kv
