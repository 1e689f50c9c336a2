// The echo service of rpc_bench, as a [[moonpool::service]] header: moonpool_add_service
// (test/bench/CMakeLists.txt) generates its Cap'n Proto schema and the EchoServer/EchoClient
// glue, so the benchmark measures the generated path against the hand-written ones.
#pragma once

#include <string>

#include "moonpool/task.h"

namespace rpcbench {

class [[moonpool::service]] Echo {
 public:
  virtual ~Echo() = default;
  virtual moonpool::Task<std::string> echo(std::string text) = 0;
};

}  // namespace rpcbench
