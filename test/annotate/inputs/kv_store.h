// Golden input: a key-value service using every supported type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "moonpool/task.h"

namespace demo {

enum class Consistency { kEventual, kStrong, LINEARIZABLE_READ };

struct [[moonpool::message]] Put {
  std::string key;
  std::string value;
  uint64_t version;
  bool overwrite;
  int8_t tiny;
  int16_t small_number;
  int32_t medium;
  int64_t large;
  uint8_t byte_value;
  uint16_t port;
  uint32_t count;
  float ratio;
  double score;
  Consistency consistency;
  std::vector<uint8_t> payload;
  std::vector<std::string> tags;
  std::optional<int32_t> ttl_seconds;
  std::map<std::string, uint64_t> counters;
  std::unordered_map<int32_t, std::vector<std::string>> buckets;
};

struct [[moonpool::message]] Batch {
  std::vector<Put> puts;
  std::optional<Put> first;
  std::vector<std::optional<std::string>> maybe_names;
};

class [[moonpool::service]] KvStore {
 public:
  virtual ~KvStore() = default;
  // Idempotent: resent after a reconnect. Changes neither the schema nor the lock file.
  [[moonpool::idempotent]] virtual moonpool::Task<std::optional<std::string>> get(
      std::string key) = 0;
  virtual moonpool::Task<void> put(Put request) = 0;
  virtual moonpool::Task<> apply(const Batch& batch, Consistency consistency) = 0;
  // The portable spelling of the same.
  __attribute__((annotate("moonpool::idempotent"))) virtual moonpool::Task<
      std::map<std::string, std::string>>
  scan(std::string from_key, uint32_t limit) = 0;
};

class [[moonpool::actor]] Account {
 public:
  moonpool::Task<int64_t> deposit(int64_t amount);
  [[moonpool::idempotent]] moonpool::Task<int64_t> balance();

 private:
  moonpool::Task<void> audit();
  int64_t balance_ = 0;
};

}  // namespace demo
