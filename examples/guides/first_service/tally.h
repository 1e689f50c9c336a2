// "Your first service" (README.md): the interface. moonpool_add_service() turns it into
// tally.capnp, the Cap'n Proto code for it, and the glue in tally.moonpool.h (TallyServer,
// TallyClient, TallyRemote).
#pragma once

#include <cstdint>
#include <string>

#include "moonpool/task.h"

namespace guide {

struct [[moonpool::message]] Entry {
  std::string name;
  std::int64_t amount = 0;
};

class [[moonpool::service]] Tally {
 public:
  virtual ~Tally() = default;
  // Adds the entry's amount to its name's total; returns the new total.
  virtual moonpool::Task<std::int64_t> add(Entry entry) = 0;
  // Reading twice does no harm: after a reconnect, the remote sends it again.
  [[moonpool::idempotent]] virtual moonpool::Task<std::int64_t> total(std::string name) = 0;
};

}  // namespace guide
